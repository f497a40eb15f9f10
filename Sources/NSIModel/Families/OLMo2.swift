/// OLMo 2: no norms before attention or MLP; RMSNorm on their outputs instead, before
/// each joins the residual stream; q and k normalized over the whole projection (all
/// heads at once) before rotary; a SiLU-gated MLP.
///
/// config.json: the Llama dimensions and rope keys, rms_norm_eps, attention_bias, hidden_act.
extension ModelFamily {
    public static let olmo2 = ModelFamily(name: "olmo2", modelTypes: ["olmo2"]) { c, keys in
        try keys.readDecoderDimensions(into: &c)
        (c.ropeTheta, c.ropeScaling, _) = try keys.rope()
        let bias = keys.bool("attention_bias") ?? false
        c.qkvBias = bias
        c.outputBias = bias
        c.hiddenAct = keys.string("hidden_act") ?? "silu"
        c.block.activation = try keys.activation("hidden_act", default: "silu", supported: ["silu"])
        c.block.qkNorm = .whole
        c.block.preAttentionNorm = false
        c.block.preMLPNorm = false
        c.block.postAttentionNorm = true
        c.block.postMLPNorm = true
        c.names.attnNorm = nil
        c.names.mlpNorm = nil
        c.names.attnPostNorm = "post_attention_layernorm"
        c.names.mlpPostNorm = "post_feedforward_layernorm"
    }
}
