import NSIModel
import NSITensor

public struct WeightError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}

/// A linear layer's parameters, always presented as `weight` [out, in]. GPT-2's Conv1D
/// stores [in, out]; it is viewed transposed, never copied.
public struct Linear: @unchecked Sendable {
    public let weight: Tensor   // [out, in]
    public let bias: Tensor?    // [out]

    public func callAsFunction(_ x: Tensor) -> Tensor { x.linear(weight, bias: bias) }
}

/// One decoder layer's weights.
public struct LayerWeights: @unchecked Sendable {
    public let attnNorm: Tensor, attnNormBias: Tensor?     // [hidden]
    public let q: Linear?, k: Linear?, v: Linear?           // [heads*hd, hidden], [kv*hd, hidden] (Llama)
    public let qkv: Linear?                                 // [3*hidden, hidden] (GPT-2 c_attn)
    public let qNorm: Tensor?, kNorm: Tensor?               // [headDim] (Qwen3)
    public let o: Linear                                    // [hidden, heads*hd]
    public let mlpNorm: Tensor, mlpNormBias: Tensor?        // [hidden]
    public let gate: Linear?, up: Linear?                   // [inter, hidden] (SwiGLU)
    public let fc: Linear?                                  // [inter, hidden] (GPT-2 c_fc)
    public let down: Linear                                 // [hidden, inter]
}

/// All weights of a model, checked against the config: every expected tensor present
/// with its expected shape, and extras reported.
public struct ModelWeights: @unchecked Sendable {
    public let embed: Tensor              // [vocab, hidden]
    public let positions: Tensor?         // [maxPositions, hidden] (GPT-2)
    public let layers: [LayerWeights]
    public let norm: Tensor, normBias: Tensor?  // [hidden]
    public let lmHead: Tensor             // [vocab, hidden] (the embedding when tied)
    /// Tensors in the checkpoint that the architecture does not use.
    public let unused: [String]

    public init(archive: SafetensorsArchive, config c: ModelConfig) throws {
        var used = Set<String>()
        func get(_ name: String, _ shape: [Int]) throws -> Tensor {
            guard let entry = archive.entry(name) else { throw WeightError(message: "missing tensor \(name) (expected shape \(describeShape(shape)))") }
            guard entry.shape == shape else {
                throw WeightError(message: "tensor \(name) has shape \(describeShape(entry.shape)), expected \(describeShape(shape))")
            }
            guard entry.dtype.isFloatingPoint else { throw WeightError(message: "tensor \(name) has dtype \(entry.dtype), expected a floating-point type") }
            used.insert(name)
            return try archive.tensor(name)
        }
        func optional(_ name: String, _ shape: [Int]) throws -> Tensor? {
            archive.contains(name) ? try get(name, shape) : nil
        }
        let hd = c.hiddenSize, inter = c.intermediateSize
        if c.architecture == .gpt2 {
            // Checkpoints name GPT-2 tensors with or without the `transformer.` prefix.
            let prefix = archive.contains("transformer.wte.weight") ? "transformer." : ""
            func conv(_ name: String, _ inF: Int, _ outF: Int) throws -> Linear {
                Linear(weight: try get("\(name).weight", [inF, outF]).mT, bias: try get("\(name).bias", [outF]))
            }
            embed = try get("\(prefix)wte.weight", [c.vocabSize, hd])
            positions = try get("\(prefix)wpe.weight", [c.maxPositions, hd])
            layers = try (0..<c.numLayers).map { l in
                let p = "\(prefix)h.\(l)"
                return LayerWeights(
                    attnNorm: try get("\(p).ln_1.weight", [hd]), attnNormBias: try get("\(p).ln_1.bias", [hd]),
                    q: nil, k: nil, v: nil, qkv: try conv("\(p).attn.c_attn", hd, 3 * hd), qNorm: nil, kNorm: nil,
                    o: try conv("\(p).attn.c_proj", hd, hd),
                    mlpNorm: try get("\(p).ln_2.weight", [hd]), mlpNormBias: try get("\(p).ln_2.bias", [hd]),
                    gate: nil, up: nil, fc: try conv("\(p).mlp.c_fc", hd, inter), down: try conv("\(p).mlp.c_proj", inter, hd))
            }
            norm = try get("\(prefix)ln_f.weight", [hd])
            normBias = try get("\(prefix)ln_f.bias", [hd])
            lmHead = try optional("lm_head.weight", [c.vocabSize, hd]) ?? embed
        } else {
            let qOut = c.numHeads * c.headDim, kvOut = c.numKVHeads * c.headDim
            func linear(_ name: String, _ inF: Int, _ outF: Int, bias: Bool) throws -> Linear {
                Linear(weight: try get("\(name).weight", [outF, inF]), bias: bias ? try get("\(name).bias", [outF]) : nil)
            }
            embed = try get("model.embed_tokens.weight", [c.vocabSize, hd])
            positions = nil
            layers = try (0..<c.numLayers).map { l in
                let p = "model.layers.\(l)"
                return LayerWeights(
                    attnNorm: try get("\(p).input_layernorm.weight", [hd]), attnNormBias: nil,
                    q: try linear("\(p).self_attn.q_proj", hd, qOut, bias: c.qkvBias),
                    k: try linear("\(p).self_attn.k_proj", hd, kvOut, bias: c.qkvBias),
                    v: try linear("\(p).self_attn.v_proj", hd, kvOut, bias: c.qkvBias),
                    qkv: nil,
                    qNorm: c.qkNorm ? try get("\(p).self_attn.q_norm.weight", [c.headDim]) : nil,
                    kNorm: c.qkNorm ? try get("\(p).self_attn.k_norm.weight", [c.headDim]) : nil,
                    o: try linear("\(p).self_attn.o_proj", qOut, hd, bias: c.outputBias),
                    mlpNorm: try get("\(p).post_attention_layernorm.weight", [hd]), mlpNormBias: nil,
                    gate: try linear("\(p).mlp.gate_proj", hd, inter, bias: c.mlpBias),
                    up: try linear("\(p).mlp.up_proj", hd, inter, bias: c.mlpBias),
                    fc: nil,
                    down: try linear("\(p).mlp.down_proj", inter, hd, bias: c.mlpBias))
            }
            norm = try get("model.norm.weight", [hd])
            normBias = nil
            if c.tieWordEmbeddings {
                lmHead = try optional("lm_head.weight", [c.vocabSize, hd]) ?? embed
            } else {
                lmHead = try get("lm_head.weight", [c.vocabSize, hd])
            }
        }
        unused = archive.names.filter { !used.contains($0) }
    }
}
