/// Phi-3: the Llama block with fused projections: qkv_proj ([q; k; v]) and gate_up_proj
/// ([gate; up]); rotary possibly on part of each head (`partial_rotary_factor`).
///
/// config.json: the Llama dimensions, rope keys (default, linear), hidden_act (silu).
extension ModelFamily {
    public static let phi3 = ModelFamily(name: "phi3", modelTypes: ["phi3"]) { c, keys in
        try keys.readDecoderDimensions(into: &c, defaultEps: 1e-5)
        let (theta, scaling, partial) = try keys.rope()
        (c.ropeTheta, c.ropeScaling) = (theta, scaling)
        c.block.rotaryDims = Int(Double(c.headDim) * partial)
        c.hiddenAct = keys.string("hidden_act") ?? "silu"
        c.block.activation = try keys.activation("hidden_act", default: "silu", supported: ["silu"])
        if let window = keys.int("sliding_window"), window > 0 {
            c.block.windows = Array(repeating: window, count: c.numLayers)
        }
        c.names.projections = .fused("qkv_proj")
        c.names.mlpProjections = .fusedGated("gate_up_proj")
    }
}
