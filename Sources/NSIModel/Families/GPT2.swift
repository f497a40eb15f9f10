/// GPT-2: LayerNorm with bias, learned positions, one fused c_attn projection, a GELU
/// MLP, linear weights stored [in, out] (Conv1D), the head tied to the embedding.
///
/// config.json: n_embd, n_layer, n_head, n_inner (default 4 × n_embd), n_positions,
/// layer_norm_epsilon, activation_function (gelu_new, gelu_pytorch_tanh, gelu),
/// tie_word_embeddings.
extension ModelFamily {
    public static let gpt2 = ModelFamily(name: "gpt2", modelTypes: ["gpt2"]) { c, keys in
        c.hiddenSize = try keys.require("n_embd", "hidden_size")
        c.numLayers = try keys.require("n_layer", "num_hidden_layers")
        c.numHeads = try keys.require("n_head", "num_attention_heads")
        c.numKVHeads = c.numHeads
        c.headDim = c.hiddenSize / c.numHeads
        guard c.headDim * c.numHeads == c.hiddenSize else { throw keys.fail("n_embd is not a multiple of n_head") }
        c.intermediateSize = keys.int("n_inner") ?? 4 * c.hiddenSize
        c.maxPositions = try keys.require("n_positions", "max_position_embeddings")
        c.normEps = keys.double("layer_norm_epsilon") ?? 1e-5
        c.hiddenAct = keys.string("activation_function") ?? "gelu_new"
        c.block.activation = try keys.activation("activation_function", default: "gelu_new",
                                                 supported: ["gelu_new", "gelu_pytorch_tanh", "gelu"])
        c.qkvBias = true
        c.outputBias = true
        c.mlpBias = true
        c.normBias = true
        c.ropeTheta = 0
        c.tieWordEmbeddings = keys.bool("tie_word_embeddings") ?? true
        if keys.bool("scale_attn_by_inverse_layer_idx") == true || keys.bool("reorder_and_upcast_attn") == true {
            throw keys.fail("GPT-2 options scale_attn_by_inverse_layer_idx and reorder_and_upcast_attn are not supported")
        }
        c.block.norm = .layerNorm
        c.block.positions = .learned
        c.block.mlp = .plain

        var n = ModuleNames()
        n.embed = "transformer.wte"
        n.embedOutput = "transformer.drop"
        n.positions = "transformer.wpe"
        n.layers = "transformer.h"
        n.attention = "attn"
        n.attnNorm = "ln_1"
        n.mlpNorm = "ln_2"
        n.projections = .fused("c_attn")
        n.out = "c_proj"
        n.mlpProjections = .plain("c_fc")
        n.down = "c_proj"
        n.finalNorm = "transformer.ln_f"
        n.transposedLinears = true
        n.optionalPrefix = "transformer."
        c.names = n
    }
}
