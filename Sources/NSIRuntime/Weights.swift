import NSIModel
import NSITensor

/// A checkpoint that does not hold what the model's config promises: which tensor, and how.
public struct WeightError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        case missing, shape, dtype
    }

    public let kind: Kind
    /// The tensor's name in the checkpoint.
    public let tensor: String
    public let message: String
    public var description: String { message }
}

/// A linear layer's parameters, always presented as `weight` [out, in]. A weight stored
/// [in, out] (GPT-2's Conv1D) is viewed transposed, never copied. bf16/f16 weights stay at
/// their stored width: the product reads them directly and accumulates in f32.
public struct Linear: @unchecked Sendable {
    public let weight: Tensor   // [out, in]
    public let bias: Tensor?    // [out], f32

    public func callAsFunction(_ x: Tensor) -> Tensor { x.linear(weight, bias: bias) }
}

/// One decoder layer's weights; which are present follows the family's `Block`.
public struct LayerWeights: @unchecked Sendable {
    public let attnNorm: Tensor?, attnNormBias: Tensor?     // [hidden]
    public let q: Linear?, k: Linear?, v: Linear?           // [heads*hd, hidden], [kv*hd, hidden]
    /// One fused input projection (c_attn, qkv_proj, query_key_value).
    public let qkv: Linear?
    /// [headDim] per head, or [heads*hd] / [kv*hd] over the whole projection.
    public let qNorm: Tensor?, kNorm: Tensor?
    public let o: Linear                                    // [hidden, heads*hd]
    public let attnPostNorm: Tensor?                        // [hidden]
    public let mlpNorm: Tensor?, mlpNormBias: Tensor?       // [hidden]
    public let gate: Linear?, up: Linear?                   // [inter, hidden]
    /// One fused [gate; up] projection [2*inter, hidden] (Phi-3).
    public let gateUp: Linear?
    /// The plain MLP's input projection (c_fc, dense_h_to_4h).
    public let fc: Linear?
    public let down: Linear                                 // [hidden, inter]
    public let mlpPostNorm: Tensor?                         // [hidden]
}

/// All weights of a model, checked against the config: every expected tensor present
/// with its expected shape, and extras reported. Names come from the family's `ModuleNames`.
public struct ModelWeights: @unchecked Sendable {
    public let embed: Tensor              // [vocab, hidden], at its stored width
    public let positions: Tensor?         // [maxPositions, hidden] (learned positions)
    public let layers: [LayerWeights]
    public let norm: Tensor, normBias: Tensor?  // [hidden]
    public let lmHead: Tensor             // [vocab, hidden] (the embedding when tied), at its stored width
    /// Tensors in the checkpoint that the architecture does not use.
    public let unused: [String]
    /// The checkpoint, for scripts' reads of weights by name (`weight(_:)`).
    let archive: SafetensorsArchive
    /// The prefix the checkpoint leaves off its names (GPT-2's `transformer.`), if any.
    let strippedPrefix: String?

    public init(archive: SafetensorsArchive, config c: ModelConfig) throws {
        var used = Set<String>()
        let n = c.names, b = c.block
        // Checkpoints may leave off an optional prefix (GPT-2's `transformer.`).
        let strip = n.optionalPrefix.flatMap { archive.contains(n.embed + ".weight") ? nil : $0 }
        self.archive = archive
        strippedPrefix = strip
        func stored(_ name: String) -> String { Self.stored(name, stripping: strip) }
        func get(_ module: String, _ shape: [Int], keepWidth: Bool = false) throws -> Tensor {
            let name = stored(module)
            guard let entry = archive.entry(name) else { throw WeightError(kind: .missing, tensor: name, message: "missing tensor \(name) (expected shape \(describeShape(shape)))") }
            guard entry.shape == shape else {
                throw WeightError(kind: .shape, tensor: name, message: "tensor \(name) has shape \(describeShape(entry.shape)), expected \(describeShape(shape))")
            }
            guard entry.dtype.isFloatingPoint else { throw WeightError(kind: .dtype, tensor: name, message: "tensor \(name) has dtype \(entry.dtype), expected a floating-point type") }
            used.insert(name)
            return try archive.tensor(name, keepingWidth: keepWidth)
        }
        func optional(_ module: String, _ shape: [Int], keepWidth: Bool = false) throws -> Tensor? {
            archive.contains(stored(module)) ? try get(module, shape, keepWidth: keepWidth) : nil
        }
        func linear(_ module: String, _ inF: Int, _ outF: Int, bias: Bool) throws -> Linear {
            let weight = n.transposedLinears
                ? try get("\(module).weight", [inF, outF]).mT
                : try get("\(module).weight", [outF, inF], keepWidth: true)
            return Linear(weight: weight, bias: bias ? try get("\(module).bias", [outF]) : nil)
        }
        func normWeight(_ module: String, _ size: Int) throws -> Tensor {
            let w = try get("\(module).weight", [size])
            // Gemma's RMSNorm scales by (1 + w): stored once as that sum, in f32 as transformers computes it.
            return b.norm == .rmsNormPlusOne ? w + Tensor(shape: [1], floats: [1]) : w
        }
        let hd = c.hiddenSize, inter = c.intermediateSize
        let qOut = c.numHeads * c.headDim, kvOut = c.numKVHeads * c.headDim
        embed = try get("\(n.embed).weight", [c.vocabSize, hd], keepWidth: true)
        positions = try n.positions.map { try get("\($0).weight", [c.maxPositions, hd]) }
        layers = try (0..<c.numLayers).map { l in
            let p = "\(n.layers).\(l)", a = "\(p).\(n.attention)", m = "\(p).\(n.mlp)"
            func norm(_ name: String?, _ present: Bool) throws -> (Tensor?, Tensor?) {
                guard present, let name else { return (nil, nil) }
                return (try normWeight("\(p).\(name)", hd), c.normBias ? try get("\(p).\(name).bias", [hd]) : nil)
            }
            var q: Linear?, k: Linear?, v: Linear?, qkv: Linear?
            switch n.projections {
            case .separate(let qn, let kn, let vn):
                q = try linear("\(a).\(qn)", hd, qOut, bias: c.qkvBias)
                k = try linear("\(a).\(kn)", hd, kvOut, bias: c.qkvBias)
                v = try linear("\(a).\(vn)", hd, kvOut, bias: c.qkvBias)
            case .fused(let name), .fusedPerHead(let name):
                qkv = try linear("\(a).\(name)", hd, qOut + 2 * kvOut, bias: c.qkvBias)
            }
            var qNorm: Tensor?, kNorm: Tensor?
            switch b.qkNorm {
            case .none: break
            case .perHead:
                qNorm = try normWeight("\(a).\(n.qNorm)", c.headDim)
                kNorm = try normWeight("\(a).\(n.kNorm)", c.headDim)
            case .whole:
                qNorm = try normWeight("\(a).\(n.qNorm)", qOut)
                kNorm = try normWeight("\(a).\(n.kNorm)", kvOut)
            }
            var gate: Linear?, up: Linear?, gateUp: Linear?, fc: Linear?
            switch n.mlpProjections {
            case .gated(let g, let u):
                gate = try linear("\(m).\(g)", hd, inter, bias: c.mlpBias)
                up = try linear("\(m).\(u)", hd, inter, bias: c.mlpBias)
            case .fusedGated(let name):
                gateUp = try linear("\(m).\(name)", hd, 2 * inter, bias: c.mlpBias)
            case .plain(let name):
                fc = try linear("\(m).\(name)", hd, inter, bias: c.mlpBias)
            }
            let (attnNorm, attnNormBias) = try norm(n.attnNorm, b.preAttentionNorm)
            let (mlpNorm, mlpNormBias) = try norm(n.mlpNorm, b.preMLPNorm)
            return LayerWeights(
                attnNorm: attnNorm, attnNormBias: attnNormBias, q: q, k: k, v: v, qkv: qkv, qNorm: qNorm, kNorm: kNorm,
                o: try linear("\(a).\(n.out)", qOut, hd, bias: c.outputBias),
                attnPostNorm: try norm(n.attnPostNorm, b.postAttentionNorm).0,
                mlpNorm: mlpNorm, mlpNormBias: mlpNormBias, gate: gate, up: up, gateUp: gateUp, fc: fc,
                down: try linear("\(m).\(n.down)", inter, hd, bias: c.mlpBias),
                mlpPostNorm: try norm(n.mlpPostNorm, b.postMLPNorm).0)
        }
        norm = try normWeight(n.finalNorm, hd)
        normBias = c.normBias ? try get("\(n.finalNorm).bias", [hd]) : nil
        if c.tieWordEmbeddings {
            lmHead = try optional("\(n.head).weight", [c.vocabSize, hd], keepWidth: true) ?? embed
        } else {
            lmHead = try get("\(n.head).weight", [c.vocabSize, hd], keepWidth: true)
        }
        unused = archive.names.filter { !used.contains($0) }
    }

    /// A module's tensor name as the checkpoint writes it.
    static func stored(_ name: String, stripping prefix: String?) -> String {
        guard let prefix, name.hasPrefix(prefix) else { return name }
        return String(name.dropFirst(prefix.count))
    }

    /// A weight of the signature's table as the checkpoint stores it, as f32 (the head's own
    /// tensor when a tied checkpoint has one, else the embedding's).
    public func weight(_ w: WeightTensor) throws -> Tensor {
        func stored(_ name: String) -> String { Self.stored(name, stripping: strippedPrefix) }
        let name = archive.contains(stored(w.hfName)) ? stored(w.hfName) : stored(w.stored)
        guard let entry = archive.entry(name), entry.shape == w.shape else {
            throw WeightError(kind: .missing, tensor: name, message: "the checkpoint has no tensor \(name) of shape \(describeShape(w.shape))")
        }
        return try archive.tensor(name, keepingWidth: false).cast(to: .f32)
    }

    /// A warning naming the checkpoint's tensors the family does not read (rotary tables,
    /// which some checkpoints store and nsi computes, aside), or nil when there are none:
    /// a config that does not match its checkpoint (a bias the config leaves out, say)
    /// would otherwise give wrong results without a word.
    public func unusedWarning(family: String) -> String? {
        let unexpected = unused.filter { !$0.hasSuffix("rotary_emb.inv_freq") }
        guard !unexpected.isEmpty else { return nil }
        let shown = unexpected.prefix(3).joined(separator: ", ")
        let more = unexpected.count > 3 ? " and \(unexpected.count - 3) more" : ""
        return "the checkpoint has \(unexpected.count) tensor\(unexpected.count == 1 ? "" : "s") the \(family) family does not use "
            + "(\(shown)\(more)); results may be wrong if config.json does not describe this checkpoint"
    }
}
