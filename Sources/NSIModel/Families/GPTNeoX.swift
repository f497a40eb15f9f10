/// GPT-NeoX and Pythia: attention and MLP in parallel from the block's input, rotary on
/// the first part of each head (`partial_rotary_factor`, 25% in Pythia), LayerNorm with
/// bias, one fused query_key_value projection laid out per head, a GELU MLP, an untied head.
///
/// config.json: hidden_size, num_hidden_layers, num_attention_heads, intermediate_size,
/// max_position_embeddings, layer_norm_eps, use_parallel_residual, hidden_act (gelu,
/// gelu_new), rope_parameters / rotary_pct / rotary_emb_base, attention_bias,
/// tie_word_embeddings.
extension ModelFamily {
    public static let gptNeoX = ModelFamily(name: "gpt_neox", modelTypes: ["gpt_neox"]) { c, keys in
        try keys.readDecoderDimensions(into: &c, defaultEps: 1e-5)
        c.numKVHeads = c.numHeads
        c.headDim = c.hiddenSize / c.numHeads
        let (theta, scaling, partial) = try keys.rope()
        (c.ropeTheta, c.ropeScaling) = (theta, scaling)
        c.block.rotaryDims = Int(Double(c.headDim) * partial)
        c.hiddenAct = keys.string("hidden_act") ?? "gelu"
        c.block.activation = try keys.activation("hidden_act", default: "gelu", supported: ["gelu", "gelu_new", "gelu_fast"])
        let bias = keys.bool("attention_bias") ?? true
        c.qkvBias = bias
        c.outputBias = bias
        c.mlpBias = true
        c.normBias = true
        c.block.norm = .layerNorm
        c.block.parallel = keys.bool("use_parallel_residual") ?? true
        c.block.mlp = .plain

        var n = ModuleNames()
        n.embed = "gpt_neox.embed_in"
        n.embedOutput = "gpt_neox.embed_in"
        n.layers = "gpt_neox.layers"
        n.attention = "attention"
        n.projections = .fusedPerHead("query_key_value")
        n.out = "dense"
        n.mlpProjections = .plain("dense_h_to_4h")
        n.down = "dense_4h_to_h"
        n.finalNorm = "gpt_neox.final_layer_norm"
        n.head = "embed_out"
        c.names = n
    }
}
