import Foundation
import NSIModel
import NSITensor

extension Transformer {
    /// Applies a pure module of the model (see `ModelSignature.callables`) to a tensor whose
    /// last dimension is the module's input size; `embed` takes integer ids.
    public func callModule(_ name: String, _ x: Tensor) throws -> Tensor {
        let w = weights
        let parts = name.split(separator: ".")
        switch (parts.count, parts.first) {
        case (1, "embed"):
            guard let out = w.embed.indexSelect(dim: 0, indices: x) else {
                throw RuntimeError("model.embed: token id out of range for a vocabulary of \(config.vocabSize)")
            }
            return out
        case (1, "norm"):
            return normalize(x, w.norm, w.normBias)
        case (1, "lm_head"):
            return x.contiguous().linear(w.lmHead)
        case (3, "layers"):
            guard let l = Int(parts[1]), l >= 0, l < config.numLayers else { break }
            let lw = w.layers[l]
            switch parts[2] {
            case "attn_norm": return normalize(x, lw.attnNorm, lw.attnNormBias)
            case "mlp_norm": return normalize(x, lw.mlpNorm, lw.mlpNormBias)
            case "mlp": return mlp(lw, x.contiguous())
            default: break
            }
        default:
            break
        }
        throw RuntimeError("model.\(name) is not a callable module")
    }

    func normalize(_ x: Tensor, _ weight: Tensor, _ bias: Tensor?) -> Tensor {
        config.architecture == .gpt2
            ? x.layerNorm(weight: weight, bias: bias, eps: Float(config.normEps))
            : x.rmsNorm(weight: weight, eps: Float(config.normEps))
    }

    /// The MLP of one layer on its own, without hooks.
    func mlp(_ lw: LayerWeights, _ x: Tensor) -> Tensor {
        if let fc = lw.fc {
            return lw.down(fc(x).unary(config.hiddenAct == "gelu" ? .gelu : .geluTanh))
        }
        return lw.down(lw.gate!(x).unary(.silu) * lw.up!(x))
    }
}
