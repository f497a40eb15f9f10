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
    /// The output of a linear layer that has no canonical name (q_proj, c_attn, gate_proj...).
    case linearOutput
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
    public let canonicalNames: [String]
    /// Hugging Face module paths, e.g. `model.layers.3.self_attn.q_proj.output`.
    public let hfNames: [String]
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
    public let attnNorm: Int
    /// Linear outputs before attention: q_proj/k_proj/v_proj, or GPT-2's fused c_attn.
    public let qkvProj: [Int]
    public let q: Int, k: Int, v: Int, scores: Int, pattern: Int, z: Int
    public let oProjInput: Int
    public let attnOutput: Int
    public let residMid: Int
    public let mlpNorm: Int
    /// gate_proj and up_proj outputs, or GPT-2's c_fc output.
    public let mlpProj: [Int]
    public let mlpAct: Int
    public let mlpOutput: Int
    public let output: Int
}

/// Every point and skippable module of a model, with names resolved to dense ids.
public struct PointTable: Sendable {
    public private(set) var points: [Point] = []
    public private(set) var modules: [Module] = []
    public private(set) var layers: [LayerPointIds] = []
    public private(set) var embed = 0
    public private(set) var norm = 0
    public private(set) var logits = 0
    private var byName: [String: Int] = [:]
    private var moduleByName: [String: Int] = [:]

    public init(config c: ModelConfig) {
        let hidden: [Dim] = [.batch, .tokens, .fixed(c.hiddenSize)]
        let gpt2 = c.architecture == .gpt2
        let root = gpt2 ? "transformer" : "model"
        let layerPath = gpt2 ? "transformer.h" : "model.layers"
        let attnPath = gpt2 ? "attn" : "self_attn"

        embed = add(.embedOutput, nil, ["embed.output", "layers.0.input"],
                    gpt2 ? ["transformer.drop.output", "transformer.h.0.input"] : ["model.embed_tokens.output", "model.layers.0.input"],
                    hidden)
        for l in 0..<c.numLayers {
            let p = "layers.\(l)", h = "\(layerPath).\(l)", a = "\(h).\(attnPath)"
            let attnNormHF = gpt2 ? "\(h).ln_1" : "\(h).input_layernorm"
            let projIn = gpt2 ? ["\(a).c_attn.input"] : ["\(a).q_proj.input", "\(a).k_proj.input", "\(a).v_proj.input"]
            let attnNorm = add(.attnNormOutput, l, ["\(p).attn_norm.output", "\(p).attn.input"],
                               ["\(attnNormHF).output", "\(a).input"] + projIn, hidden)
            var qkv: [Int] = []
            if gpt2 {
                qkv.append(add(.linearOutput, l, [], ["\(a).c_attn.output"], [.batch, .tokens, .fixed(3 * c.hiddenSize)]))
            } else {
                qkv.append(add(.linearOutput, l, [], ["\(a).q_proj.output"], [.batch, .tokens, .fixed(c.numHeads * c.headDim)]))
                qkv.append(add(.linearOutput, l, [], ["\(a).k_proj.output"], [.batch, .tokens, .fixed(c.numKVHeads * c.headDim)]))
                qkv.append(add(.linearOutput, l, [], ["\(a).v_proj.output"], [.batch, .tokens, .fixed(c.numKVHeads * c.headDim)]))
            }
            let q = add(.q, l, ["\(p).attn.q"], [], [.batch, .tokens, .fixed(c.numHeads), .fixed(c.headDim)])
            let k = add(.k, l, ["\(p).attn.k"], [], [.batch, .keys, .fixed(c.numKVHeads), .fixed(c.headDim)])
            let v = add(.v, l, ["\(p).attn.v"], [], [.batch, .keys, .fixed(c.numKVHeads), .fixed(c.headDim)])
            let scores = add(.scores, l, ["\(p).attn.scores"], [], [.batch, .fixed(c.numHeads), .tokens, .keys])
            let pattern = add(.pattern, l, ["\(p).attn.pattern"], [], [.batch, .fixed(c.numHeads), .tokens, .keys])
            let z = add(.z, l, ["\(p).attn.z"], [], [.batch, .tokens, .fixed(c.numHeads), .fixed(c.headDim)])
            let oName = gpt2 ? "\(a).c_proj" : "\(a).o_proj"
            let oIn = add(.linearOutput, l, [], ["\(oName).input"], [.batch, .tokens, .fixed(c.numHeads * c.headDim)])
            let attnOut = add(.attnOutput, l, ["\(p).attn.output"], ["\(oName).output", "\(a).output"], hidden)
            let mid = add(.residMid, l, ["\(p).resid_mid"], [], hidden)
            let mlpNormHF = gpt2 ? "\(h).ln_2" : "\(h).post_attention_layernorm"
            let m = "\(h).mlp"
            let mlpIn = gpt2 ? ["\(m).c_fc.input"] : ["\(m).gate_proj.input", "\(m).up_proj.input"]
            let mlpNorm = add(.mlpNormOutput, l, ["\(p).mlp_norm.output", "\(p).mlp.input"],
                              ["\(mlpNormHF).output", "\(m).input"] + mlpIn, hidden)
            let inter: [Dim] = [.batch, .tokens, .fixed(c.intermediateSize)]
            var mlpProj: [Int] = []
            if gpt2 {
                mlpProj.append(add(.linearOutput, l, [], ["\(m).c_fc.output"], inter))
            } else {
                mlpProj.append(add(.linearOutput, l, [], ["\(m).gate_proj.output"], inter))
                mlpProj.append(add(.linearOutput, l, [], ["\(m).up_proj.output"], inter))
            }
            let downName = gpt2 ? "\(m).c_proj" : "\(m).down_proj"
            let act = add(.mlpAct, l, ["\(p).mlp.act"], ["\(downName).input"], inter)
            let mlpOut = add(.mlpOutput, l, ["\(p).mlp.output"], ["\(downName).output", "\(m).output"], hidden)
            let nextIn = l + 1 < c.numLayers ? ["layers.\(l + 1).input"] : []
            let nextInHF = l + 1 < c.numLayers ? ["\(layerPath).\(l + 1).input"] : []
            let out = add(.layerOutput, l, ["\(p).output"] + nextIn, ["\(h).output"] + nextInHF, hidden)
            layers.append(LayerPointIds(attnNorm: attnNorm, qkvProj: qkv, q: q, k: k, v: v, scores: scores,
                                        pattern: pattern, z: z, oProjInput: oIn, attnOutput: attnOut, residMid: mid,
                                        mlpNorm: mlpNorm, mlpProj: mlpProj, mlpAct: act, mlpOutput: mlpOut, output: out))
            addModule(.layer, l, p, h)
            addModule(.attn, l, "\(p).attn", a)
            addModule(.mlp, l, "\(p).mlp", m)
        }
        let normHF = gpt2 ? "\(root).ln_f" : "\(root).norm"
        norm = add(.normOutput, nil, ["norm.output"], ["\(normHF).output", "lm_head.input"], hidden)
        logits = add(.logits, nil, ["lm_head.output", "logits"], ["lm_head.output"],
                     [.batch, .tokens, .fixed(c.vocabSize)])
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
