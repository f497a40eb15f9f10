/// Gemma 3 (text): Gemma 2's block without attention soft-capping, plus per-head q/k
/// RMSNorm (1 + w), and separate rotary frequencies for the sliding (local) and full
/// (global) layers. The embedding module itself scales by sqrt(hidden).
///
/// config.json: as Gemma 2, plus rope_parameters per layer type (`sliding_attention`,
/// `full_attention`) or rope_theta with rope_local_base_freq, and layer_types (or
/// sliding_window_pattern: every n-th layer full).
extension ModelFamily {
    public static let gemma3 = ModelFamily(name: "gemma3", modelTypes: ["gemma3_text"]) { c, keys in
        try readGemma(&c, keys)
        c.block.qkNorm = .perHead
        c.block.attentionSoftcap = keys.double("attn_logit_softcapping")
        c.block.logitSoftcap = keys.double("final_logit_softcapping")
        let pattern = keys.int("sliding_window_pattern") ?? keys.int("_sliding_window_pattern") ?? 6
        c.block.windows = try keys.slidingWindows(layers: c.numLayers) { ($0 + 1) % pattern != 0 }
        c.block.localRope = c.block.windows.map { $0 != nil }
        (c.ropeTheta, c.ropeScaling, _) = try keys.rope(entry: "full_attention", defaultTheta: 1_000_000)
        if keys.objectValue("rope_parameters")?["sliding_attention"] != nil {
            let local = try keys.rope(entry: "sliding_attention")
            (c.localRopeTheta, c.localRopeScaling) = (local.theta, local.scaling)
        } else {
            (c.localRopeTheta, c.localRopeScaling) = (keys.double("rope_local_base_freq") ?? 10_000, .none)
        }
    }
}
