/// One tensor of the model's checkpoint that scripts may read (`model.norm.weight`), as
/// PyTorch shows it: the checkpoint's shape and values (a Conv1D weight [in, out], a
/// Gemma norm's `w` of `1 + w`), read-only, as f32.
public struct WeightTensor: Sendable, Equatable {
    /// The canonical name (`layers.3.attn.o_proj.weight`).
    public let name: String
    /// The Hugging Face parameter name (`model.layers.3.self_attn.o_proj.weight`).
    public let hfName: String
    /// The tensor's name in the checkpoint: `hfName`, or the embedding's for a tied head.
    public let stored: String
    public let shape: [Int]
    /// For a linear module's weight, its input and output widths: the module
    /// (`name` without `.weight`) is callable.
    public var linear: (inputs: Int, outputs: Int)? = nil

    public static func == (a: WeightTensor, b: WeightTensor) -> Bool {
        a.name == b.name && a.hfName == b.hfName && a.stored == b.stored && a.shape == b.shape
            && a.linear?.inputs == b.linear?.inputs && a.linear?.outputs == b.linear?.outputs
    }
}

extension ModelConfig {
    /// Every weight the family's modules read, in forward order, named canonically and as
    /// Hugging Face names them. `ModelWeights` loads the same tensors with the same shapes
    /// (`WeightTableTests` checks every family's checkpoint against this table).
    public func weightTable() -> [WeightTensor] {
        var out: [WeightTensor] = []
        let n = names, b = block, hd = hiddenSize, inter = intermediateSize
        let qOut = numHeads * headDim, kvOut = numKVHeads * headDim
        func add(_ name: String, _ hf: String, _ shape: [Int], stored: String? = nil, linear: (Int, Int)? = nil) {
            out.append(WeightTensor(name: name, hfName: hf, stored: stored ?? hf, shape: shape, linear: linear))
        }
        func linear(_ name: String, _ hf: String, _ inF: Int, _ outF: Int, bias: Bool) {
            add(name + ".weight", hf + ".weight", n.transposedLinears ? [inF, outF] : [outF, inF], linear: (inF, outF))
            if bias { add(name + ".bias", hf + ".bias", [outF]) }
        }
        func norm(_ name: String, _ hf: String?, _ present: Bool, _ size: Int, bias: Bool) {
            guard present, let hf else { return }
            add(name + ".weight", hf + ".weight", [size])
            if bias { add(name + ".bias", hf + ".bias", [size]) }
        }
        add("embed.weight", n.embed + ".weight", [vocabSize, hd])
        if let p = n.positions { add("positions.weight", p + ".weight", [maxPositions, hd]) }
        for l in 0..<numLayers {
            let c = "layers.\(l)", p = "\(n.layers).\(l)", a = "\(p).\(n.attention)", m = "\(p).\(n.mlp)"
            norm("\(c).attn_norm", n.attnNorm.map { "\(p).\($0)" }, b.preAttentionNorm, hd, bias: normBias)
            switch n.projections {
            case .separate(let q, let k, let v):
                linear("\(c).attn.q_proj", "\(a).\(q)", hd, qOut, bias: qkvBias)
                linear("\(c).attn.k_proj", "\(a).\(k)", hd, kvOut, bias: qkvBias)
                linear("\(c).attn.v_proj", "\(a).\(v)", hd, kvOut, bias: qkvBias)
            case .fused(let name), .fusedPerHead(let name):
                linear("\(c).attn.qkv_proj", "\(a).\(name)", hd, qOut + 2 * kvOut, bias: qkvBias)
            }
            switch b.qkNorm {
            case .none: break
            case .perHead:
                norm("\(c).attn.q_norm", "\(a).\(n.qNorm)", true, headDim, bias: false)
                norm("\(c).attn.k_norm", "\(a).\(n.kNorm)", true, headDim, bias: false)
            case .whole:
                norm("\(c).attn.q_norm", "\(a).\(n.qNorm)", true, qOut, bias: false)
                norm("\(c).attn.k_norm", "\(a).\(n.kNorm)", true, kvOut, bias: false)
            }
            linear("\(c).attn.o_proj", "\(a).\(n.out)", qOut, hd, bias: outputBias)
            norm("\(c).attn_post_norm", n.attnPostNorm.map { "\(p).\($0)" }, b.postAttentionNorm, hd, bias: false)
            norm("\(c).mlp_norm", n.mlpNorm.map { "\(p).\($0)" }, b.preMLPNorm, hd, bias: normBias)
            switch n.mlpProjections {
            case .gated(let g, let u):
                linear("\(c).mlp.gate_proj", "\(m).\(g)", hd, inter, bias: mlpBias)
                linear("\(c).mlp.up_proj", "\(m).\(u)", hd, inter, bias: mlpBias)
            case .fusedGated(let name):
                linear("\(c).mlp.gate_up_proj", "\(m).\(name)", hd, 2 * inter, bias: mlpBias)
            case .plain(let name):
                linear("\(c).mlp.fc", "\(m).\(name)", hd, inter, bias: mlpBias)
            }
            linear("\(c).mlp.down_proj", "\(m).\(n.down)", inter, hd, bias: mlpBias)
            norm("\(c).mlp_post_norm", n.mlpPostNorm.map { "\(p).\($0)" }, b.postMLPNorm, hd, bias: false)
        }
        norm("norm", n.finalNorm, true, hd, bias: normBias)
        add("lm_head.weight", n.head + ".weight", [vocabSize, hd], stored: tieWordEmbeddings ? n.embed + ".weight" : nil)
        return out
    }
}
