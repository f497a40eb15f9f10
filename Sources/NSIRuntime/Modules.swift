import Foundation
import NSIModel
import NSITensor

extension Transformer {
    /// Applies a pure module of the model (see `ModelSignature.callables`) to a tensor whose
    /// last dimension is the module's input size; `embed` takes integer ids.
    public func callModule(_ name: String, _ x: Tensor) throws -> Tensor {
        let w = weights
        let parts = name.split(separator: ".")
        try callModuleInputCheck(name, x)
        switch (parts.count, parts.first) {
        case (1, "embed"):
            guard var out = embedRows(x) else {
                throw RuntimeError(.input, "model.embed: token id out of range for a vocabulary of \(config.vocabSize)")
            }
            // What the family's embedding module computes: scaled only where the module itself scales.
            if let scale = config.block.embeddingScale, config.names.embedOutput == config.names.embed {
                out = out.contiguous()
                out.scaleInPlace(Float(scale))
            }
            return out
        case (1, "norm"):
            return normalize(x, w.norm, w.normBias)
        case (1, "lm_head"):
            return applyHead(x.contiguous())
        case (3, "layers"):
            guard let l = Int(parts[1]), l >= 0, l < config.numLayers else { break }
            let lw = w.layers[l]
            switch parts[2] {
            case "attn_norm": if let n = lw.attnNorm { return normalize(x, n, lw.attnNormBias) }
            case "mlp_norm": if let n = lw.mlpNorm { return normalize(x, n, lw.mlpNormBias) }
            case "attn_post_norm": if let n = lw.attnPostNorm { return normalize(x, n, nil) }
            case "mlp_post_norm": if let n = lw.mlpPostNorm { return normalize(x, n, nil) }
            case "mlp": return mlp(lw, x.contiguous())
            default: break
            }
        case (4, "layers"):
            if let linear = linearModule(parts) { return linear(x.contiguous()) }
        default:
            break
        }
        throw RuntimeError(.input, "model.\(name) is not a callable module")
    }

    /// A block's linear layer by canonical path parts (`layers`, l, `attn`|`mlp`, projection).
    func linearModule(_ parts: [Substring]) -> Linear? {
        guard parts.count == 4, parts[0] == "layers", let l = Int(parts[1]), l >= 0, l < config.numLayers else { return nil }
        let lw = weights.layers[l]
        switch (parts[2], parts[3]) {
        case ("attn", "q_proj"): return lw.q
        case ("attn", "k_proj"): return lw.k
        case ("attn", "v_proj"): return lw.v
        case ("attn", "qkv_proj"): return lw.qkv
        case ("attn", "o_proj"): return lw.o
        case ("mlp", "gate_proj"): return lw.gate
        case ("mlp", "up_proj"): return lw.up
        case ("mlp", "gate_up_proj"): return lw.gateUp
        case ("mlp", "fc"): return lw.fc
        case ("mlp", "down_proj"): return lw.down
        default: return nil
        }
    }

    /// A module's input: floating point with its input width last (the hidden size, or a
    /// linear layer's input features; `embed` takes ids).
    @discardableResult
    func callModuleInputCheck(_ name: String, _ x: Tensor) throws -> Bool {
        if name != "embed" {
            let width = linearModule(name.split(separator: "."))?.weight.shape[1] ?? config.hiddenSize
            guard x.rank >= 1, x.shape.last == width, x.dtype.isFloatingPoint else {
                throw RuntimeError(.input, "model.\(name) takes a floating-point tensor whose last dimension is \(width), not \(x.dtype.rawValue)\(describeShape(x.shape))")
            }
        }
        return true
    }

    /// The family's norm: LayerNorm, or RMSNorm (Gemma's (1 + w) is added to the weight at load).
    func normalize(_ x: Tensor, _ weight: Tensor, _ bias: Tensor?) -> Tensor {
        config.block.norm == .layerNorm
            ? x.layerNorm(weight: weight, bias: bias, eps: Float(config.normEps))
            : x.rmsNorm(weight: weight, eps: Float(config.normEps))
    }

    var activationOp: UnaryOp {
        switch config.block.activation {
        case .silu: return .silu
        case .gelu: return .gelu
        case .geluTanh: return .geluTanh
        }
    }

    /// act(g) * u in one pass (contiguous operands of one shape).
    func gated(_ g: Tensor, _ u: Tensor) -> Tensor {
        let out = Tensor(zeros: g.shape)
        let p = (UncheckedPointer(g.floatPointer), UncheckedPointer(u.floatPointer), UncheckedPointer(out.floatPointer))
        let op = activationOp
        parallelFor(g.count, cost: 8) { r in
            let (g, u, o) = (p.0.p, p.1.p, p.2.p)
            if op == .silu {
                for i in r { let x = g[i]; o[i] = x / (1 + expf(-x)) * u[i] }
            } else {
                for i in r { o[i] = op.apply(g[i]) * u[i] }
            }
        }
        return out
    }

    /// The MLP of one layer on its own, without hooks.
    func mlp(_ lw: LayerWeights, _ x: Tensor) -> Tensor {
        if let fc = lw.fc { return lw.down(fc(x).unary(activationOp)) }
        if let gateUp = lw.gateUp {
            let gu = gateUp(x), inter = config.intermediateSize
            let last = gu.rank - 1
            return lw.down(gated(gu.slice(dim: last, end: inter).contiguous(), gu.slice(dim: last, start: inter).contiguous()))
        }
        return lw.down(gated(lw.gate!(x), lw.up!(x)))
    }
}

extension Tensor {
    /// x ← x · s, for a contiguous f32 tensor.
    func scaleInPlace(_ s: Float) {
        let p = UncheckedPointer(floatPointer)
        parallelFor(count, cost: 1) { r in for i in r { p.p[i] *= s } }
    }

    /// x ← cap · tanh(x / cap), for a contiguous f32 tensor.
    func softcapInPlace(_ cap: Float) {
        let p = UncheckedPointer(floatPointer)
        parallelFor(count, cost: 8) { r in for i in r { p.p[i] = cap * tanhf(p.p[i] / cap) } }
    }
}
