import CBLAS
import Foundation
import NSIModel
import NSITensor

// The forward pass of a trace whose plan asks for gradients: the same blocks as `run`
// and `layer`, step for step with the forward's kernels, each step recorded on the
// hooks' tape from the first point whose gradient is wanted. Rows are never shared and
// the keys and values are the pass's own (a trace's cache starts empty).

extension ForwardPass {
    /// Hands a recorded tensor to its point's hooks. From the tape's first point on, the
    /// hooks get a copy (their writes must not change a tensor an earlier step keeps) and
    /// `tape.current` says which node the hooks left; that node, the value the model goes
    /// on with, is the point's (its gradient is the point's `.grad`).
    func visit(_ point: Int, _ v: inout Tracked, _ tape: Tape) throws {
        let info = model.points.points[point]
        var rowShape = info.kind == .scores || info.kind == .pattern ? Array(v.t.shape.dropFirst()) : [tokens] + v.t.shape.dropFirst()
        if info.kind == .k || info.kind == .v { rowShape = Array(v.t.shape.dropFirst()) }
        let full = [rows] + rowShape
        guard v.n != nil || point == tape.start else {
            try visit(point, &v.t)
            return
        }
        let node = tape.enter(from: v.n, shape: full, inputShape: v.t.shape)
        tape.current = node
        if let hooks, let hook = hooks.handlers[point] {
            let seen = v.t.contiguous().copy().reshape(full)
            var after = seen
            if let replacement = try hook(seen, HookContext(point: info, step: step)) {
                guard replacement.shape == full else {
                    throw RuntimeError(.input, "a hook at \(info.name) returned shape \(describeShape(replacement.shape)), expected \(describeShape(full))")
                }
                after = replacement.dtype == .f32 ? replacement.contiguous() : replacement.cast(to: .f32).contiguous()
            }
            tape.mark(tape.current ?? node, point: point)
            v = try tape.reshape(Tracked(t: after, n: tape.current ?? node), v.t.shape)
        } else {
            tape.mark(node, point: point)
            v.n = try tape.reshape(Tracked(t: v.t, n: node), v.t.shape).n
        }
        tape.current = nil
        if hooks?.stopAfter == point { throw StopForward() }
    }

    /// Returns the logits [B·T, vocab].
    mutating func runRecorded(ids: [[Int]], tape: Tape) throws -> Tensor {
        let w = model.weights
        let flat = ids.flatMap { $0 }
        guard let x = model.embedRows(Tensor(shape: [flat.count], int64s: flat.map(Int64.init))) else {
            throw RuntimeError(.input, "token id out of range for a vocabulary of \(c.vocabSize)")
        }
        if let scale = c.block.embeddingScale { x.scaleInPlace(Float(scale)) }
        if let wpe = w.positions {
            let pos = Tensor(shape: [tokenPositions.count], int64s: tokenPositions.map(Int64.init))
            x.binaryInPlace(.add, wpe.indexSelect(dim: 0, indices: pos)!)
        }
        var h = Tracked(t: x, n: nil)
        try visit(model.points.embed, &h, tape)
        for l in 0..<c.numLayers { h = try layerRecorded(l, h, tape) }
        var out = try normRecorded(h, w.norm, w.normBias, tape, scale: model.points.normScale)
        try visit(model.points.norm, &out, tape)
        var logits = try tape.linear(out, Linear(weight: w.lmHead, bias: nil))
        if let cap = c.block.logitSoftcap { logits = try tape.softcap(logits, Float(cap)) }
        try visit(model.points.logits, &logits, tape)
        return logits.t
    }

    /// A norm on the tape; with a `scale` point, its per-position factor is a step (and
    /// a point) of its own, so a plan can read, change or freeze it.
    func normRecorded(_ x: Tracked, _ weight: Tensor, _ bias: Tensor?, _ tape: Tape, scale point: Int? = nil) throws -> Tracked {
        let layerNorm = c.block.norm == .layerNorm, eps = Float(c.normEps)
        guard let point else { return try tape.norm(x, weight, bias, layerNorm: layerNorm, eps: eps) }
        var s = try tape.normScale(x, layerNorm: layerNorm, eps: eps)
        try visit(point, &s, tape)
        return try tape.normalized(x, scale: s, weight, bias, layerNorm: layerNorm)
    }

    mutating func layerRecorded(_ l: Int, _ input: Tracked, _ tape: Tape) throws -> Tracked {
        let ids = model.points.layers[l]
        let b = c.block
        var x = input
        if skipped(.layer, l) {
            try visit(ids.output, &x, tape)
            return x
        }
        let lw = model.weights.layers[l]
        var a = x
        if b.preAttentionNorm, let w = lw.attnNorm {
            a = try normRecorded(x, w, lw.attnNormBias, tape, scale: ids.attnNormScale)
            try visit(ids.attnNorm, &a, tape)
        }
        var attnOut = skipped(.attn, l) ? Tracked(t: Tensor(zeros: a.t.shape), n: nil) : try attentionRecorded(l, a, lw, ids, tape)
        try visit(ids.attnOutput, &attnOut, tape)
        if let point = ids.attnPostNorm, let w = lw.attnPostNorm {
            attnOut = try normRecorded(attnOut, w, nil, tape)
            try visit(point, &attnOut, tape)
        }
        var mid = try tape.add(x, attnOut)
        try visit(ids.residMid, &mid, tape)
        var m = b.parallel ? x : mid
        if b.preMLPNorm, let w = lw.mlpNorm {
            m = try normRecorded(m, w, lw.mlpNormBias, tape, scale: ids.mlpNormScale)
            try visit(ids.mlpNorm, &m, tape)
        }
        var mlpOut = skipped(.mlp, l) ? Tracked(t: Tensor(zeros: m.t.shape), n: nil) : try mlpRecorded(lw, m, ids, tape)
        try visit(ids.mlpOutput, &mlpOut, tape)
        if let point = ids.mlpPostNorm, let w = lw.mlpPostNorm {
            mlpOut = try normRecorded(mlpOut, w, nil, tape)
            try visit(point, &mlpOut, tape)
        }
        var out = try tape.add(mid, mlpOut)
        try visit(ids.output, &out, tape)
        return out
    }

    func mlpRecorded(_ lw: LayerWeights, _ m: Tracked, _ ids: LayerPointIds, _ tape: Tape) throws -> Tracked {
        try model.recordedMLP(lw, m, tape) { slot, v in
            try visit(slot == 2 ? ids.mlpAct : ids.mlpProj[slot], &v, tape)
        }
    }

    mutating func attentionRecorded(_ l: Int, _ a: Tracked, _ lw: LayerWeights, _ ids: LayerPointIds, _ tape: Tape) throws -> Tracked {
        BLASSetup.prepare()
        let n = a.t.shape[0], h = c.numHeads, kvh = c.numKVHeads, d = c.headDim
        let b = c.block, eps = Float(c.normEps)
        var q: Tracked, k: Tracked, v: Tracked
        if let qkv = lw.qkv {
            var fused = try tape.linear(a, qkv)
            try visit(ids.qkvProj[0], &fused, tape)
            if case .fusedPerHead = c.names.projections {
                let perHead = try tape.reshape(fused, [n, h, 3 * d])
                q = try tape.slice(perHead, dim: 2, start: 0, end: d)
                k = try tape.slice(perHead, dim: 2, start: d, end: 2 * d)
                v = try tape.slice(perHead, dim: 2, start: 2 * d, end: 3 * d)
            } else {
                let qw = h * d, kw = kvh * d
                q = try tape.reshape(try tape.slice(fused, dim: 1, start: 0, end: qw), [n, h, d])
                k = try tape.reshape(try tape.slice(fused, dim: 1, start: qw, end: qw + kw), [n, kvh, d])
                v = try tape.reshape(try tape.slice(fused, dim: 1, start: qw + kw, end: qw + 2 * kw), [n, kvh, d])
            }
        } else {
            var qp = try tape.linear(a, lw.q!), kp = try tape.linear(a, lw.k!), vp = try tape.linear(a, lw.v!)
            try visit(ids.qkvProj[0], &qp, tape)
            try visit(ids.qkvProj[1], &kp, tape)
            try visit(ids.qkvProj[2], &vp, tape)
            if b.qkNorm == .whole, let qn = lw.qNorm, let kn = lw.kNorm {
                qp = try tape.norm(qp, qn, nil, layerNorm: false, eps: eps)
                kp = try tape.norm(kp, kn, nil, layerNorm: false, eps: eps)
            }
            q = try tape.reshape(qp, [n, h, d])
            k = try tape.reshape(kp, [n, kvh, d])
            v = try tape.reshape(vp, [n, kvh, d])
        }
        if b.qkNorm == .perHead, let qn = lw.qNorm, let kn = lw.kNorm {
            q = try tape.norm(q, qn, nil, layerNorm: false, eps: eps)
            k = try tape.norm(k, kn, nil, layerNorm: false, eps: eps)
        }
        if b.positions == .rotary {
            let table = b.localRope[l] ? localRotary : rotary
            q = try tape.rotary(q, cos: table.cos, sin: table.sin, dims: b.rotaryDims)
            k = try tape.rotary(k, cos: table.cos, sin: table.sin, dims: b.rotaryDims)
        }
        try visit(ids.q, &q, tape)
        var keys = try tape.reshape(k, [rows, tokens, kvh, d])
        var values = try tape.reshape(v, [rows, tokens, kvh, d])
        try visit(ids.k, &keys, tape)
        try visit(ids.v, &values, tape)
        let geometry = AttentionGeometry(rows: rows, tokens: tokens, heads: h, kvHeads: kvh, headDim: d,
                                         scale: Float(b.attentionScale), softcap: b.attentionSoftcap.map(Float.init),
                                         window: b.windows[l] ?? Int.max, valid: cache.valid)
        var scores = try geometry.scores(q, keys, tape)
        try visit(ids.scores, &scores, tape)
        var pattern = try tape.softmax(scores)
        try visit(ids.pattern, &pattern, tape)
        var z = try geometry.mix(pattern, values, tape)
        try visit(ids.z, &z, tape)
        var oIn = try tape.reshape(z, [n, h * d])
        try visit(ids.oProjInput, &oIn, tape)
        return try tape.linear(oIn, lw.o)
    }
}

extension Transformer {
    /// A layer's MLP on the tape; `visit` gets its points in order (slot 0 and 1: the
    /// projections, 2: the activation) when it runs inside the pass.
    func recordedMLP(_ lw: LayerWeights, _ m: Tracked, _ tape: Tape,
                     visit: (Int, inout Tracked) throws -> Void = { _, _ in }) throws -> Tracked {
        var act: Tracked
        let op = activationOp
        if let fc = lw.fc {
            var h = try tape.linear(m, fc)
            try visit(0, &h)
            act = try tape.activation(h, op)
        } else if let gateUp = lw.gateUp {
            var gu = try tape.linear(m, gateUp)
            try visit(0, &gu)
            let inter = config.intermediateSize, last = gu.t.rank - 1
            let g = try tape.slice(gu, dim: last, start: 0, end: inter), u = try tape.slice(gu, dim: last, start: inter, end: 2 * inter)
            act = try tape.gated(g, u, op) { self.gated($0, $1) }
        } else {
            var g = try tape.linear(m, lw.gate!), u = try tape.linear(m, lw.up!)
            try visit(0, &g)
            try visit(1, &u)
            act = try tape.gated(g, u, op) { self.gated($0, $1) }
        }
        try visit(2, &act)
        return try tape.linear(act, lw.down)
    }

    /// `callModule` on a value that carries a gradient (`node` on `tape`): the module's
    /// work is recorded, so the gradient flows through it. Returns the value and its node.
    public func callModule(_ name: String, _ x: Tensor, node: Int?, tape: Tape) throws -> (Tensor, Int?) {
        guard let node, name != "embed" else { return (try callModule(name, x), nil) }
        _ = try callModuleInputCheck(name, x)
        let input = Tracked(t: x.dtype == .f32 ? x.contiguous() : x.cast(to: .f32).contiguous(), n: node)
        let w = weights, ln = config.block.norm == .layerNorm, eps = Float(config.normEps)
        let parts = name.split(separator: ".")
        var out: Tracked?
        switch (parts.count, parts.first) {
        case (1, "norm"): out = try tape.norm(input, w.norm, w.normBias, layerNorm: ln, eps: eps)
        case (1, "lm_head"): out = try tape.linear(input, Linear(weight: w.lmHead, bias: nil))
        case (3, "layers"):
            guard let l = Int(parts[1]), l >= 0, l < config.numLayers else { break }
            let lw = w.layers[l]
            switch parts[2] {
            case "attn_norm": if let n = lw.attnNorm { out = try tape.norm(input, n, lw.attnNormBias, layerNorm: ln, eps: eps) }
            case "mlp_norm": if let n = lw.mlpNorm { out = try tape.norm(input, n, lw.mlpNormBias, layerNorm: ln, eps: eps) }
            case "attn_post_norm": if let n = lw.attnPostNorm { out = try tape.norm(input, n, nil, layerNorm: ln, eps: eps) }
            case "mlp_post_norm": if let n = lw.mlpPostNorm { out = try tape.norm(input, n, nil, layerNorm: ln, eps: eps) }
            case "mlp": out = try recordedMLP(lw, input, tape)
            default: break
            }
        case (4, "layers"):
            if let linear = linearModule(parts) { out = try tape.linear(input, linear) }
        default: break
        }
        guard let out else { throw RuntimeError(.input, "model.\(name) is not a callable module") }
        return (out.t, out.n)
    }
}

/// Causal self-attention over one pass's own positions (no earlier cache), as the
/// recorded pass computes it: scores [B, heads, T, T] from q [B·T, heads, hd] and keys
/// [B, T, kvHeads, hd], masked by causality, the sliding window and padding; then the
/// pattern times the values. Query heads share a key/value head in groups.
struct AttentionGeometry {
    let rows: Int, tokens: Int, heads: Int, kvHeads: Int, headDim: Int
    let scale: Float
    let softcap: Float?
    let window: Int
    let valid: [[Bool]]

    var group: Int { heads / kvHeads }

    /// Whether query `i` of row `r` attends to key `j` (a pad query attends only to itself).
    func allowed(_ r: Int, _ i: Int, _ j: Int) -> Bool {
        valid[r][i] ? (j <= i && i - j < window && valid[r][j]) : j == i
    }

    func scores(_ q: Tracked, _ k: Tracked, _ tape: Tape) throws -> Tracked {
        let (t, h, kvh, d) = (tokens, heads, kvHeads, headDim)
        let qc = q.t.contiguous(), kc = k.t.contiguous()
        let out = Tensor(zeros: [rows, h, t, t])
        let qp = UncheckedPointer(qc.floatPointer), kp = UncheckedPointer(kc.floatPointer), sp = UncheckedPointer(out.floatPointer)
        let me = self
        parallelFor(rows * h, cost: t * t * d, grain: 1 << 15) { pairs in
            for pair in pairs {
                let r = pair / h, head = pair % h, block = sp.p + pair * t * t
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(t), Int32(t), Int32(d), me.scale,
                            qp.p + r * t * h * d + head * d, Int32(h * d),
                            kp.p + r * t * kvh * d + (head / me.group) * d, Int32(kvh * d), 0, block, Int32(t))
                for i in 0..<t {
                    let row = block + i * t
                    if let cap = me.softcap { for j in 0..<t { row[j] = cap * tanhf(row[j] / cap) } }
                    for j in 0..<t where !me.allowed(r, i, j) { row[j] = -Float.greatestFiniteMagnitude }
                }
            }
        }
        let n = try tape.record([q.n, k.n], shape: out.shape, saved: [qc, kc, out]) { g in
            try me.scoresBackward(qc, kc, out, g.contiguous())
        }
        return Tracked(t: out, n: n)
    }

    /// dS' = dS (times the soft cap's slope), 0 where masked; dq = scale · dS' · k,
    /// dk = scale · dS'ᵀ · q summed over the heads of a group.
    func scoresBackward(_ q: Tensor, _ k: Tensor, _ s: Tensor, _ g: Tensor) throws -> [Tensor?] {
        let (t, h, kvh, d) = (tokens, heads, kvHeads, headDim)
        let ds = g.copy()
        let dsp = UncheckedPointer(ds.floatPointer), sp = UncheckedPointer(s.floatPointer)
        let me = self
        parallelFor(rows * h, cost: t * t, grain: 1 << 15) { pairs in
            for pair in pairs {
                let r = pair / h
                for i in 0..<t {
                    let row = dsp.p + (pair * t + i) * t, sr = sp.p + (pair * t + i) * t
                    for j in 0..<t {
                        if !me.allowed(r, i, j) { row[j] = 0; continue }
                        if let cap = me.softcap { let y = sr[j] / cap; row[j] *= 1 - y * y }
                    }
                }
            }
        }
        let dq = Tensor(zeros: q.shape), dk = Tensor(zeros: k.shape)
        let qp = UncheckedPointer(q.floatPointer), kp = UncheckedPointer(k.floatPointer)
        let dqp = UncheckedPointer(dq.floatPointer), dkp = UncheckedPointer(dk.floatPointer)
        // One task per (row, kv head): its query heads write their own dq, and add into
        // the shared dk one after another.
        parallelFor(rows * kvh, cost: group * t * t * d * 2, grain: 1 << 15) { pairs in
            for pair in pairs {
                let r = pair / kvh, kv = pair % kvh
                for head in (kv * me.group)..<((kv + 1) * me.group) {
                    let block = dsp.p + (r * h + head) * t * t
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(t), Int32(d), Int32(t), me.scale,
                                block, Int32(t), kp.p + r * t * kvh * d + kv * d, Int32(kvh * d),
                                0, dqp.p + r * t * h * d + head * d, Int32(h * d))
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(t), Int32(d), Int32(t), me.scale,
                                block, Int32(t), qp.p + r * t * h * d + head * d, Int32(h * d),
                                1, dkp.p + r * t * kvh * d + kv * d, Int32(kvh * d))
                }
            }
        }
        return [dq, dk]
    }

    /// z [B·T, heads, hd] = pattern [B, heads, T, T] · values [B, T, kvHeads, hd].
    func mix(_ p: Tracked, _ v: Tracked, _ tape: Tape) throws -> Tracked {
        let (t, h, kvh, d) = (tokens, heads, kvHeads, headDim)
        let pc = p.t.contiguous(), vc = v.t.contiguous()
        let z = Tensor(zeros: [rows * t, h, d])
        let pp = UncheckedPointer(pc.floatPointer), vp = UncheckedPointer(vc.floatPointer), zp = UncheckedPointer(z.floatPointer)
        let me = self
        parallelFor(rows * h, cost: t * t * d, grain: 1 << 15) { pairs in
            for pair in pairs {
                let r = pair / h, head = pair % h
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(t), Int32(d), Int32(t), 1,
                            pp.p + pair * t * t, Int32(t), vp.p + r * t * kvh * d + (head / me.group) * d, Int32(kvh * d),
                            0, zp.p + r * t * h * d + head * d, Int32(h * d))
            }
        }
        let n = try tape.record([p.n, v.n], shape: z.shape, saved: [pc, vc]) { g in
            let gz = g.contiguous()
            let dp = Tensor(zeros: pc.shape), dv = Tensor(zeros: vc.shape)
            let gp = UncheckedPointer(gz.floatPointer), dpp = UncheckedPointer(dp.floatPointer), dvp = UncheckedPointer(dv.floatPointer)
            parallelFor(me.rows * kvh, cost: me.group * t * t * d * 2, grain: 1 << 15) { pairs in
                for pair in pairs {
                    let r = pair / kvh, kv = pair % kvh
                    for head in (kv * me.group)..<((kv + 1) * me.group) {
                        let block = (r * h + head) * t * t
                        // dP = dz · vᵀ; dv += Pᵀ · dz.
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(t), Int32(t), Int32(d), 1,
                                    gp.p + r * t * h * d + head * d, Int32(h * d), vp.p + r * t * kvh * d + kv * d, Int32(kvh * d),
                                    0, dpp.p + block, Int32(t))
                        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(t), Int32(d), Int32(t), 1,
                                    pp.p + block, Int32(t), gp.p + r * t * h * d + head * d, Int32(h * d),
                                    1, dvp.p + r * t * kvh * d + kv * d, Int32(kvh * d))
                    }
                }
            }
            return [dp, dv]
        }
        return Tracked(t: z, n: n)
    }
}
