/// Llama and the families that share its layout: Mistral, Qwen2 (q/k/v bias), Qwen3
/// (per-head q/k RMSNorm), SmolLM2. RMSNorm before attention and MLP, rotary positions,
/// SiLU-gated MLP.
///
/// config.json: hidden_size, num_hidden_layers, num_attention_heads, num_key_value_heads,
/// intermediate_size, head_dim, max_position_embeddings, rms_norm_eps, tie_word_embeddings,
/// rope_theta / rope_scaling or rope_parameters (default, linear, llama3), attention_bias
/// (q/k/v and o), mlp_bias, hidden_act (silu).
extension ModelFamily {
    public static let llama = ModelFamily(name: "llama", modelTypes: ["llama", "mistral", "qwen2", "qwen3"]) { c, keys in
        try keys.readDecoderDimensions(into: &c)
        (c.ropeTheta, c.ropeScaling, _) = try keys.rope()
        let bias = keys.bool("attention_bias") ?? false
        c.qkvBias = c.modelType == "qwen2" ? true : bias
        c.outputBias = c.modelType == "qwen2" ? false : bias
        c.mlpBias = keys.bool("mlp_bias") ?? false
        c.hiddenAct = keys.string("hidden_act") ?? "silu"
        c.block.activation = try keys.activation("hidden_act", default: "silu", supported: ["silu"])
        c.block.qkNorm = c.modelType == "qwen3" ? .perHead : .none
        if c.modelType == "mistral", let window = keys.int("sliding_window"), window > 0 {
            c.block.windows = Array(repeating: window, count: c.numLayers)
        }
        // Checkpoint and module names are ModuleNames' defaults.
    }
}
