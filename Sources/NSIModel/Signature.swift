import Crypto
import Foundation
import NSIJSON
import NSITensor
import NSITokenizer

/// A module a script may call as a function: a pure function of one tensor.
public struct CallableModule: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable { case embed, norm, linear, mlp, lmHead }
    public let kind: Kind
    /// Canonical name (`layers.3.mlp`) and Hugging Face path (`model.layers.3.mlp`).
    public let name: String
    public let hfName: String
    public let layer: Int?
    /// Last dimension in and out; leading dimensions pass through. `embed` takes integer ids.
    public let inputLast: Int?
    public let outputLast: Int
}

/// Everything a script can be checked against, read from config.json and tokenizer.json
/// without loading weights: dimensions, every access point with its shape template and
/// names, in forward order, the skippable and callable modules, and a stable hash.
public struct ModelSignature: Sendable {
    public let config: ModelConfig
    public let points: PointTable
    public let callables: [CallableModule]
    /// The weights scripts may read by name (`model.norm.weight`).
    public let weights: [WeightTensor]
    /// Weights and callables by canonical and Hugging Face name: looked up for every model
    /// path a script names, so checking a long script stays fast.
    private let weightIndex: [String: Int]
    private let callableIndex: [String: Int]
    public let tokenizer: Tokenizer?
    /// SHA-256 of tokenizer.json, or nil without one.
    public let tokenizerHash: String?
    /// SHA-256 over the canonical text of the signature: plans record it, and a plan is
    /// refused by a model whose signature differs.
    public private(set) var hash: String

    public init(config: ModelConfig, tokenizer: Tokenizer?, tokenizerBytes: Data?) {
        self.config = config
        points = PointTable(config: config)
        weights = config.weightTable()
        self.tokenizer = tokenizer
        tokenizerHash = tokenizerBytes.map { SHA256.hash(data: $0).map { String(format: "%02x", $0) }.joined() }
        var callables: [CallableModule] = []
        let n = config.names, b = config.block
        let h = config.hiddenSize
        callables.append(CallableModule(kind: .embed, name: "embed", hfName: n.embed, layer: nil, inputLast: nil, outputLast: h))
        for l in 0..<config.numLayers {
            let hf = "\(n.layers).\(l)"
            func norm(_ name: String, _ module: String?, _ present: Bool) {
                guard present, let module else { return }
                callables.append(CallableModule(kind: .norm, name: "layers.\(l).\(name)", hfName: "\(hf).\(module)",
                                                layer: l, inputLast: h, outputLast: h))
            }
            norm("attn_norm", n.attnNorm, b.preAttentionNorm)
            norm("attn_post_norm", n.attnPostNorm, b.postAttentionNorm)
            norm("mlp_norm", n.mlpNorm, b.preMLPNorm)
            callables.append(CallableModule(kind: .mlp, name: "layers.\(l).mlp", hfName: "\(hf).\(n.mlp)", layer: l, inputLast: h, outputLast: h))
            norm("mlp_post_norm", n.mlpPostNorm, b.postMLPNorm)
        }
        callables.append(CallableModule(kind: .norm, name: "norm", hfName: n.finalNorm, layer: nil, inputLast: h, outputLast: h))
        callables.append(CallableModule(kind: .lmHead, name: "lm_head", hfName: n.head, layer: nil, inputLast: h, outputLast: config.vocabSize))
        // Every linear layer of the blocks, by its weight (the head is `lm_head` above).
        for w in weights where w.name.hasPrefix("layers.") {
            guard let (inputs, outputs) = w.linear else { continue }
            let name = String(w.name.dropLast(".weight".count)), hf = String(w.hfName.dropLast(".weight".count))
            callables.append(CallableModule(kind: .linear, name: name, hfName: hf, layer: Int(name.split(separator: ".")[1]),
                                            inputLast: inputs, outputLast: outputs))
        }
        self.callables = callables
        // By either name, the first of a name winning, as the linear search this replaces.
        var weightIndex: [String: Int] = [:], callableIndex: [String: Int] = [:]
        for (i, w) in weights.enumerated() { for n in [w.name, w.hfName] where weightIndex[n] == nil { weightIndex[n] = i } }
        for (i, c) in callables.enumerated() { for n in [c.name, c.hfName] where callableIndex[n] == nil { callableIndex[n] = i } }
        self.weightIndex = weightIndex
        self.callableIndex = callableIndex
        hash = ""
        hash = SHA256.hash(data: Data(canonicalText(includeHash: false).utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Reads config.json (and tokenizer.json when present) from a model folder.
    public static func load(directory: String) throws -> ModelSignature {
        let config = try ModelConfig.load(directory: directory)
        let path = directory + "/tokenizer.json"
        guard let bytes = FileManager.default.contents(atPath: path) else {
            return ModelSignature(config: config, tokenizer: nil, tokenizerBytes: nil)
        }
        return ModelSignature(config: config, tokenizer: try Tokenizer(data: bytes, source: path), tokenizerBytes: bytes)
    }

    /// Compile-time integers a script reads as `model.<name>`.
    public var dimensions: [(String, Int)] {
        [("num_layers", config.numLayers), ("hidden_size", config.hiddenSize), ("num_heads", config.numHeads),
         ("num_kv_heads", config.numKVHeads), ("head_dim", config.headDim),
         ("intermediate_size", config.intermediateSize), ("vocab_size", config.vocabSize)]
    }

    public func dimension(_ name: String) -> Int? { dimensions.first { $0.0 == name }?.1 }

    public func callable(named name: String) -> CallableModule? {
        callableIndex[name].map { callables[$0] }
    }

    /// The weight called `name`, canonically or as Hugging Face names it.
    public func weight(named name: String) -> WeightTensor? {
        weightIndex[name].map { weights[$0] }
    }

    /// The readable listing `nsi signature` prints; with the hash line excluded it is also
    /// what the hash is computed over, so any change a script could observe changes the hash.
    public func canonicalText(includeHash: Bool = true) -> String {
        var out = "model_type \(config.modelType)\n"
        for (name, value) in dimensions { out += "model.\(name) = \(value)\n" }
        out += "max_positions = \(config.maxPositions)\n"
        out += "tokenizer \(tokenizerHash ?? "none")\n"
        out += "\npoints (forward order): id  shape  names\n"
        for p in points.points {
            let shape = "[" + p.shape.map(\.description).joined(separator: ", ") + "]"
            out += "  \(p.id)  \(shape)  " + (p.canonicalNames.map { "model.\($0)" } + p.hfNames.map { "model.\($0)" }).joined(separator: " | ") + "\n"
        }
        out += "\nskippable modules:\n"
        for m in points.modules { out += "  model.\(m.canonicalName) | model.\(m.hfName)\n" }
        out += "\ncallable modules (pure functions of one tensor):\n"
        for c in callables {
            let input = c.inputLast.map { "f32[..., \($0)]" } ?? "i32[...]"
            out += "  model.\(c.name) | model.\(c.hfName): \(input) -> f32[..., \(c.outputLast)]\n"
        }
        out += "\nweights (read-only, f32 as the checkpoint stores them):\n"
        for w in weights { out += "  model.\(w.name) | model.\(w.hfName): f32[" + w.shape.map(String.init).joined(separator: ", ") + "]\n" }
        if includeHash { out += "\nhash \(hash)\n" }
        return out
    }

    /// The same content as JSON.
    public func json() -> String {
        func q(_ s: String) -> String { JSONValue.quote(s) }
        var fields: [String] = []
        fields.append("\"model_type\":\(q(config.modelType))")
        fields.append("\"dimensions\":{" + dimensions.map { "\(q($0.0)):\($0.1)" }.joined(separator: ",") + "}")
        fields.append("\"max_positions\":\(config.maxPositions)")
        fields.append("\"tokenizer_sha256\":" + (tokenizerHash.map(q) ?? "null"))
        let pts = points.points.map { p in
            "{\"id\":\(p.id),\"kind\":\(q(p.kind.rawValue)),\"layer\":\(p.layer.map(String.init) ?? "null"),"
            + "\"shape\":[" + p.shape.map { q($0.description) }.joined(separator: ",") + "],"
            + "\"names\":[" + p.canonicalNames.map { q("model." + $0) }.joined(separator: ",") + "],"
            + "\"hf_names\":[" + p.hfNames.map { q("model." + $0) }.joined(separator: ",") + "]}"
        }
        fields.append("\"points\":[\n  " + pts.joined(separator: ",\n  ") + "]")
        fields.append("\"skippable\":[" + points.modules.map { q("model." + $0.canonicalName) }.joined(separator: ",") + "]")
        let calls = callables.map { c in
            "{\"name\":\(q("model." + c.name)),\"hf_name\":\(q("model." + c.hfName)),\"kind\":\(q(c.kind.rawValue)),"
            + "\"input_last\":\(c.inputLast.map(String.init) ?? "null"),\"output_last\":\(c.outputLast)}"
        }
        fields.append("\"callables\":[\n  " + calls.joined(separator: ",\n  ") + "]")
        let ws = weights.map { w in
            "{\"name\":\(q("model." + w.name)),\"hf_name\":\(q("model." + w.hfName)),\"shape\":[" + w.shape.map(String.init).joined(separator: ",") + "]}"
        }
        fields.append("\"weights\":[\n  " + ws.joined(separator: ",\n  ") + "]")
        fields.append("\"hash\":\(q(hash))")
        return "{" + fields.joined(separator: ",\n") + "}\n"
    }
}

extension ModelSignature {
    /// The forward pass's matmul weights, each with the point its output reaches (what
    /// `nsi dump`'s cost model counts), for any family.
    public var matmulWeights: [(point: Int, count: Int)] {
        let c = config, h = c.hiddenSize
        func width(_ p: Int) -> Int {
            if case .fixed(let n) = points.points[p].shape.last { return n }
            return 0
        }
        var out: [(Int, Int)] = []
        for ids in points.layers {
            for p in ids.qkvProj { out.append((p, h * width(p))) }
            out.append((ids.attnOutput, c.numHeads * c.headDim * h))
            for p in ids.mlpProj { out.append((p, h * width(p))) }
            out.append((ids.mlpOutput, c.intermediateSize * h))
        }
        out.append((points.logits, h * c.vocabSize))
        return out
    }

    /// Weights of one layer's MLP (for the cost of calling it as a module).
    public var mlpWeights: Int {
        (config.block.mlp == .gated ? 3 : 2) * config.hiddenSize * config.intermediateSize
    }
}
