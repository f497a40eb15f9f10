/// Symbolic dimensions of a point's shape: the batch, the query length, the key
/// length (query plus cached positions), or a fixed model dimension.
public enum Dim: Sendable, Equatable, Hashable, CustomStringConvertible {
    case batch, tokens, keys
    case fixed(Int)

    public var description: String {
        switch self {
        case .batch: return "B"
        case .tokens: return "T"
        case .keys: return "S"
        case .fixed(let n): return String(n)
        }
    }
}

/// What a point is, independent of its names.
public enum PointKind: String, Sendable, Equatable, Hashable, CaseIterable {
    case embedOutput, layerOutput, attnNormOutput, mlpNormOutput
    case q, k, v, scores, pattern, z
    case attnOutput, residMid, mlpAct, mlpOutput, normOutput, logits
    /// The norms on the attention's and the MLP's outputs (Gemma, OLMo 2).
    case attnPostNormOutput, mlpPostNormOutput
    /// The output of a linear layer that has no canonical name (q_proj, c_attn, gate_proj...).
    case linearOutput
    /// A norm's per-position factor, [B, T, 1]: 1 / sqrt(mean(x²) + eps), or
    /// 1 / sqrt(var + eps) for LayerNorm (what a linearized model freezes).
    case normScale

    /// What the tensor is, in a line (hover in `nsi lsp`).
    public var summary: String {
        switch self {
        case .embedOutput: return "the token (and position) embeddings: the residual stream before layer 0"
        case .layerOutput: return "the residual stream after this decoder layer"
        case .attnNormOutput: return "the attention's input: the residual stream after the pre-attention norm"
        case .mlpNormOutput: return "the MLP's input: the residual stream after the pre-MLP norm"
        case .q: return "the attention queries per head, after the rotary embedding where the model has one"
        case .k: return "the attention keys per key/value head, after the rotary embedding where the model has one"
        case .v: return "the attention values per key/value head"
        case .scores: return "the attention scores per head before the softmax, masked"
        case .pattern: return "the attention pattern per head: the softmax of the scores"
        case .z: return "the heads' outputs, concatenated, before the output projection"
        case .attnOutput: return "what the attention adds to the residual stream"
        case .residMid: return "the residual stream between the attention and the MLP"
        case .mlpAct: return "the MLP's hidden activations, before the down projection"
        case .mlpOutput: return "what the MLP adds to the residual stream"
        case .normOutput: return "the residual stream after the final norm: the unembedding's input"
        case .logits: return "the next-token logits"
        case .attnPostNormOutput: return "the attention's output after its post-norm (what is added to the residual stream)"
        case .mlpPostNormOutput: return "the MLP's output after its post-norm (what is added to the residual stream)"
        case .linearOutput: return "the output of a linear layer of the block"
        case .normScale: return "a norm's per-position factor, 1 / sqrt(mean(x²) + eps) (or the variance's, for LayerNorm)"
        }
    }
}

/// A tensor the forward pass computes that hooks may read, write or replace. One point
/// can carry several names when they denote the same tensor (`attn_norm.output`,
/// `attn.input` and `self_attn.q_proj.input` are one point). Ids follow execution order.
public struct Point: Sendable, Equatable {
    public let id: Int
    public let kind: PointKind
    /// Decoder layer, or nil for points outside the layers.
    public let layer: Int?
    /// Canonical names, e.g. `layers.3.attn.q` (the script writes `model.layers[3].attn.q`).
    public internal(set) var canonicalNames: [String]
    /// Hugging Face module paths, e.g. `model.layers.3.self_attn.q_proj.output`.
    public internal(set) var hfNames: [String]
    public let shape: [Dim]

    public var name: String { canonicalNames.first ?? hfNames.first ?? "point\(id)" }
}

/// Modules whose forward can be skipped (output = input).
public enum ModuleKind: String, Sendable, CaseIterable {
    case layer, attn, mlp
}

public struct Module: Sendable, Equatable {
    public let id: Int
    public let kind: ModuleKind
    public let layer: Int
    public let canonicalName: String
    public let hfName: String
}

/// Dense ids of one decoder layer's points, in the order the forward pass reaches them.
public struct LayerPointIds: Sendable {
    /// The per-position factors of the norms before attention and the MLP, where there are.
    public let attnNormScale: Int?, mlpNormScale: Int?
    /// The attention's input: the norm before it, or the block's input where there is none.
    public let attnNorm: Int
    /// Linear outputs before attention: q_proj/k_proj/v_proj, or one fused projection.
    public let qkvProj: [Int]
    public let q: Int, k: Int, v: Int, scores: Int, pattern: Int, z: Int
    public let oProjInput: Int
    public let attnOutput: Int
    /// The norm on the attention's output, where the family has one.
    public let attnPostNorm: Int?
    public let residMid: Int
    /// The MLP's input: the norm before it, or `residMid` where there is none.
    public let mlpNorm: Int
    /// gate_proj and up_proj outputs, or one fused projection (c_fc, gate_up_proj...).
    public let mlpProj: [Int]
    public let mlpAct: Int
    public let mlpOutput: Int
    public let mlpPostNorm: Int?
    public let output: Int
}

/// Every point and skippable module of a model, with names resolved to dense ids.
public struct PointTable: Sendable {
    public private(set) var points: [Point] = []
    public private(set) var modules: [Module] = []
    public private(set) var layers: [LayerPointIds] = []
    public private(set) var embed = 0
    public private(set) var norm = 0
    /// The final norm's per-position factor.
    public private(set) var normScale = 0
    public private(set) var logits = 0
    private var byName: [String: Int] = [:]
    private var moduleByName: [String: Int] = [:]

    public init(config c: ModelConfig) {
        let hidden: [Dim] = [.batch, .tokens, .fixed(c.hiddenSize)]
        let n = c.names, b = c.block
        let qWidth = c.numHeads * c.headDim, kvWidth = c.numKVHeads * c.headDim

        embed = add(.embedOutput, nil, ["embed.output", "layers.0.input"],
                    (n.embedOutput.map { ["\($0).output"] } ?? []) + ["\(n.layers).0.input"], hidden)
        var input = embed
        for l in 0..<c.numLayers {
            let p = "layers.\(l)", h = "\(n.layers).\(l)", a = "\(h).\(n.attention)"
            let projIn: [String]
            switch n.projections {
            case .separate(let q, let k, let v): projIn = ["\(a).\(q).input", "\(a).\(k).input", "\(a).\(v).input"]
            case .fused(let qkv), .fusedPerHead(let qkv): projIn = ["\(a).\(qkv).input"]
            }
            let attnNorm: Int
            var attnScale: Int?
            if let norm = n.attnNorm, b.preAttentionNorm {
                attnScale = add(.normScale, l, ["\(p).attn_norm.scale"], [], [.batch, .tokens, .fixed(1)])
                attnNorm = add(.attnNormOutput, l, ["\(p).attn_norm.output", "\(p).attn.input"],
                               ["\(h).\(norm).output", "\(a).input"] + projIn, hidden)
            } else {
                attnNorm = alias(input, ["\(p).attn.input"], ["\(a).input"] + projIn)
            }
            var qkv: [Int] = []
            switch n.projections {
            case .separate(let q, let k, let v):
                qkv.append(add(.linearOutput, l, [], ["\(a).\(q).output"], [.batch, .tokens, .fixed(qWidth)]))
                qkv.append(add(.linearOutput, l, [], ["\(a).\(k).output"], [.batch, .tokens, .fixed(kvWidth)]))
                qkv.append(add(.linearOutput, l, [], ["\(a).\(v).output"], [.batch, .tokens, .fixed(kvWidth)]))
            case .fused(let name), .fusedPerHead(let name):
                qkv.append(add(.linearOutput, l, [], ["\(a).\(name).output"], [.batch, .tokens, .fixed(qWidth + 2 * kvWidth)]))
            }
            let q = add(.q, l, ["\(p).attn.q"], [], [.batch, .tokens, .fixed(c.numHeads), .fixed(c.headDim)])
            let k = add(.k, l, ["\(p).attn.k"], [], [.batch, .keys, .fixed(c.numKVHeads), .fixed(c.headDim)])
            let v = add(.v, l, ["\(p).attn.v"], [], [.batch, .keys, .fixed(c.numKVHeads), .fixed(c.headDim)])
            let scores = add(.scores, l, ["\(p).attn.scores"], [], [.batch, .fixed(c.numHeads), .tokens, .keys])
            let pattern = add(.pattern, l, ["\(p).attn.pattern"], [], [.batch, .fixed(c.numHeads), .tokens, .keys])
            let z = add(.z, l, ["\(p).attn.z"], [], [.batch, .tokens, .fixed(c.numHeads), .fixed(c.headDim)])
            let oName = "\(a).\(n.out)"
            let oIn = add(.linearOutput, l, [], ["\(oName).input"], [.batch, .tokens, .fixed(qWidth)])
            let attnOut = add(.attnOutput, l, ["\(p).attn.output"], ["\(oName).output", "\(a).output"], hidden)
            let attnPost = b.postAttentionNorm
                ? add(.attnPostNormOutput, l, ["\(p).attn_post_norm.output"], n.attnPostNorm.map { ["\(h).\($0).output"] } ?? [], hidden)
                : nil
            let mid = add(.residMid, l, ["\(p).resid_mid"], [], hidden)
            let m = "\(h).\(n.mlp)"
            let mlpIn: [String]
            switch n.mlpProjections {
            case .gated(let gate, let up): mlpIn = ["\(m).\(gate).input", "\(m).\(up).input"]
            case .fusedGated(let name), .plain(let name): mlpIn = ["\(m).\(name).input"]
            }
            let mlpNorm: Int
            var mlpScale: Int?
            if let norm = n.mlpNorm, b.preMLPNorm {
                mlpScale = add(.normScale, l, ["\(p).mlp_norm.scale"], [], [.batch, .tokens, .fixed(1)])
                mlpNorm = add(.mlpNormOutput, l, ["\(p).mlp_norm.output", "\(p).mlp.input"],
                              ["\(h).\(norm).output", "\(m).input"] + mlpIn, hidden)
            } else {
                mlpNorm = alias(b.parallel ? input : mid, ["\(p).mlp.input"], ["\(m).input"] + mlpIn)
            }
            let inter: [Dim] = [.batch, .tokens, .fixed(c.intermediateSize)]
            var mlpProj: [Int] = []
            switch n.mlpProjections {
            case .gated(let gate, let up):
                mlpProj.append(add(.linearOutput, l, [], ["\(m).\(gate).output"], inter))
                mlpProj.append(add(.linearOutput, l, [], ["\(m).\(up).output"], inter))
            case .fusedGated(let name):
                mlpProj.append(add(.linearOutput, l, [], ["\(m).\(name).output"], [.batch, .tokens, .fixed(2 * c.intermediateSize)]))
            case .plain(let name):
                mlpProj.append(add(.linearOutput, l, [], ["\(m).\(name).output"], inter))
            }
            let downName = "\(m).\(n.down)"
            let act = add(.mlpAct, l, ["\(p).mlp.act"], ["\(downName).input"], inter)
            let mlpOut = add(.mlpOutput, l, ["\(p).mlp.output"], ["\(downName).output", "\(m).output"], hidden)
            let mlpPost = b.postMLPNorm
                ? add(.mlpPostNormOutput, l, ["\(p).mlp_post_norm.output"], n.mlpPostNorm.map { ["\(h).\($0).output"] } ?? [], hidden)
                : nil
            let nextIn = l + 1 < c.numLayers ? ["layers.\(l + 1).input"] : []
            let nextInHF = l + 1 < c.numLayers ? ["\(n.layers).\(l + 1).input"] : []
            let out = add(.layerOutput, l, ["\(p).output"] + nextIn, ["\(h).output"] + nextInHF, hidden)
            layers.append(LayerPointIds(attnNormScale: attnScale, mlpNormScale: mlpScale, attnNorm: attnNorm, qkvProj: qkv, q: q, k: k, v: v, scores: scores,
                                        pattern: pattern, z: z, oProjInput: oIn, attnOutput: attnOut, attnPostNorm: attnPost,
                                        residMid: mid, mlpNorm: mlpNorm, mlpProj: mlpProj, mlpAct: act, mlpOutput: mlpOut,
                                        mlpPostNorm: mlpPost, output: out))
            addModule(.layer, l, p, h)
            addModule(.attn, l, "\(p).attn", a)
            addModule(.mlp, l, "\(p).mlp", m)
            input = out
        }
        normScale = add(.normScale, nil, ["norm.scale"], [], [.batch, .tokens, .fixed(1)])
        norm = add(.normOutput, nil, ["norm.output"], ["\(n.finalNorm).output", "\(n.head).input"], hidden)
        // With soft-capped logits the head's own output is not the logits point.
        logits = add(.logits, nil, b.logitSoftcap == nil ? ["lm_head.output", "logits"] : ["logits"],
                     b.logitSoftcap == nil ? ["\(n.head).output"] : [], [.batch, .tokens, .fixed(c.vocabSize)])
    }

    /// Adds names to an existing point (an input that is another point's output).
    private mutating func alias(_ id: Int, _ canonical: [String], _ hf: [String]) -> Int {
        points[id].canonicalNames += canonical
        points[id].hfNames += hf
        for n in canonical + hf where byName[n] == nil { byName[n] = id }
        return id
    }

    private mutating func add(_ kind: PointKind, _ layer: Int?, _ canonical: [String], _ hf: [String], _ shape: [Dim]) -> Int {
        let id = points.count
        points.append(Point(id: id, kind: kind, layer: layer, canonicalNames: canonical, hfNames: hf, shape: shape))
        for n in canonical + hf where byName[n] == nil { byName[n] = id }
        return id
    }

    private mutating func addModule(_ kind: ModuleKind, _ layer: Int, _ canonical: String, _ hf: String) {
        let id = modules.count
        modules.append(Module(id: id, kind: kind, layer: layer, canonicalName: canonical, hfName: hf))
        moduleByName[canonical] = id
        moduleByName[hf] = id
    }

    /// The point a dotted name denotes, canonical (`layers.3.attn.q`) or Hugging Face
    /// (`model.layers.3.self_attn.q_proj.output`).
    public func point(named name: String) -> Point? { byName[name].map { points[$0] } }

    public func module(named name: String) -> Module? { moduleByName[name].map { modules[$0] } }

    /// Every name, for suggestions on a misspelt point.
    public var allNames: [String] { byName.keys.sorted() }

    public func module(_ kind: ModuleKind, layer: Int) -> Int { layer * ModuleKind.allCases.count + ModuleKind.allCases.firstIndex(of: kind)! }
}
