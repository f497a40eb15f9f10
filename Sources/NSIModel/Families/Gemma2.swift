import Foundation

/// Gemma 2: RMSNorm scaling by (1 + w) before and after both attention and MLP, the
/// embedding scaled by sqrt(hidden), attention scores and final logits soft-capped,
/// sliding-window attention on alternate layers, queries scaled by
/// query_pre_attn_scalar^-1/2, a GELU-gated MLP, the head tied to the embedding.
///
/// config.json: the Llama dimensions, hidden_activation (gelu_pytorch_tanh),
/// query_pre_attn_scalar, attn_logit_softcapping, final_logit_softcapping, sliding_window,
/// layer_types (or every other layer from the first sliding), rope_parameters.
extension ModelFamily {
    public static let gemma2 = ModelFamily(name: "gemma2", modelTypes: ["gemma2"]) { c, keys in
        try readGemma(&c, keys)
        c.block.attentionSoftcap = keys.double("attn_logit_softcapping")
        c.block.logitSoftcap = keys.double("final_logit_softcapping")
        c.block.windows = try keys.slidingWindows(layers: c.numLayers) { $0 % 2 == 0 }
        (c.ropeTheta, c.ropeScaling, _) = try keys.rope()
        // The model scales after its embedding module, so that module's output is not the point.
        c.names.embedOutput = nil
    }

    /// What Gemma 2 and 3 share.
    static func readGemma(_ c: inout ModelConfig, _ keys: ConfigKeys) throws {
        try keys.readDecoderDimensions(into: &c)
        c.tieWordEmbeddings = keys.bool("tie_word_embeddings") ?? true
        let act = keys.string("hidden_activation") == nil ? "hidden_act" : "hidden_activation"
        c.hiddenAct = keys.string(act) ?? "gelu_pytorch_tanh"
        c.block.activation = try keys.activation(act, default: "gelu_pytorch_tanh", supported: ["gelu_pytorch_tanh", "gelu"])
        let bias = keys.bool("attention_bias") ?? false
        c.qkvBias = bias
        c.outputBias = bias
        c.block.norm = .rmsNormPlusOne
        c.block.postAttentionNorm = true
        c.block.postMLPNorm = true
        c.block.embeddingScale = Double(Float(Double(c.hiddenSize).squareRoot()))
        c.block.attentionScale = 1 / (keys.double("query_pre_attn_scalar") ?? Double(c.headDim)).squareRoot()
        c.names.attnPostNorm = "post_attention_layernorm"
        c.names.mlpNorm = "pre_feedforward_layernorm"
        c.names.mlpPostNorm = "post_feedforward_layernorm"
    }
}
