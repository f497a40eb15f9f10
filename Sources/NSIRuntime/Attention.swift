import NSIModel
import CBLAS
import Foundation
import NSITensor

extension ForwardPass {
    /// Self-attention over the cache plus this pass's slots. Keys/values go into the
    /// cache first, so `attn.k`/`attn.v` are views [B, S, kvHeads, headDim] of it.
    func attention(_ l: Int, _ a: Tensor, _ lw: LayerWeights, _ ids: LayerPointIds) throws -> Tensor {
        BLASSetup.prepare()   // the products below call cblas directly
        let b = rows, t = tokens, h = c.numHeads, kvh = c.numKVHeads, d = c.headDim
        var q: Tensor, k: Tensor, v: Tensor                                    // [B, T, heads, hd]
        if let qkv = lw.qkv {
            var fused = qkv(a)                                                 // [B, T, 3*hidden]
            try visit(ids.qkvProj[0], &fused)
            let hd = h * d
            q = fused.slice(dim: 2, start: 0, end: hd).contiguous().reshape([b, t, h, d])
            k = fused.slice(dim: 2, start: hd, end: 2 * hd).contiguous().reshape([b, t, kvh, d])
            v = fused.slice(dim: 2, start: 2 * hd, end: 3 * hd).contiguous().reshape([b, t, kvh, d])
        } else {
            var qp = lw.q!(a), kp = lw.k!(a), vp = lw.v!(a)
            try visit(ids.qkvProj[0], &qp)
            try visit(ids.qkvProj[1], &kp)
            try visit(ids.qkvProj[2], &vp)
            q = qp.reshape([b, t, h, d])
            k = kp.reshape([b, t, kvh, d])
            v = vp.reshape([b, t, kvh, d])
            if let qn = lw.qNorm, let kn = lw.kNorm {
                q = q.rmsNorm(weight: qn, eps: Float(c.normEps))
                k = k.rmsNorm(weight: kn, eps: Float(c.normEps))
            } else {
                // Rotary rotates in place: never through a hooked projection's storage the hook may still see.
                q = q.copy()
                k = k.copy()
            }
            let (cosT, sinT) = Rotary.tables(positions: Array(positions.joined()), inverseFrequencies: model.inverseFrequencies)
            let rowIndex = Array(0..<(b * t))
            Rotary.apply(q.reshape([b * t, h, d]), cos: cosT, sin: sinT, tableRow: rowIndex)
            Rotary.apply(k.reshape([b * t, kvh, d]), cos: cosT, sin: sinT, tableRow: rowIndex)
        }
        try visit(ids.q, &q)

        let start = cache.length, s = start + t
        // [B, cap, kvh, hd]; the first b rows when rows share a prefix (see Sharing.swift)
        var keys = cache.keys[l], values = cache.values[l]
        if b < keys.shape[0] {
            keys = keys.slice(dim: 0, start: 0, end: b)
            values = values.slice(dim: 0, start: 0, end: b)
        }
        keys.slice(dim: 1, start: start, end: s).assign(k)
        values.slice(dim: 1, start: start, end: s).assign(v)
        var kView = keys.slice(dim: 1, end: s), vView = values.slice(dim: 1, end: s)
        try visitCacheView(ids.k, &kView, keys, s)
        try visitCacheView(ids.v, &vView, values, s)

        // scores[b, h, t, s] = q·k / sqrt(hd), masked by causality and padding.
        var scores = Tensor(zeros: [b, h, t, s])
        let scale = 1 / Float(d).squareRoot()
        let group = h / kvh
        let qp = UncheckedPointer(q.floatPointer), kp = UncheckedPointer(keys.floatPointer), sp = UncheckedPointer(scores.floatPointer)
        let cap = cache.capacity
        let valid = cache.valid
        // One (row, head) pair per task, over nsi's threads (OpenBLAS runs one per call).
        parallelFor(b * h, cost: t * s * d, grain: 1 << 15) { pairs in
            for pair in pairs {
                let r = pair / h, head = pair % h
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(t), Int32(s), Int32(d), scale,
                            qp.p + r * t * h * d + head * d, Int32(h * d),
                            kp.p + r * cap * kvh * d + (head / group) * d, Int32(kvh * d),
                            0, sp.p + (r * h + head) * t * s, Int32(s))
                let rowValid = valid[r]
                for i in 0..<t {
                    let row = sp.p + ((r * h + head) * t + i) * s
                    let slot = start + i
                    let selfOnly = !rowValid[slot]   // a pad query attends only to itself, never to nothing
                    for j in 0..<s where !(selfOnly ? j == slot : (j <= slot && rowValid[j])) {
                        row[j] = -Float.greatestFiniteMagnitude
                    }
                }
            }
        }
        try visit(ids.scores, &scores)
        var pattern = scores.softmax(dim: -1)                                  // [B, heads, T, S]
        try visit(ids.pattern, &pattern)

        // z[b, t, h, :] = pattern[b, h, t, :] @ v[b, :, h / group, :]
        var z = Tensor(zeros: [b, t, h, d])
        let pp = UncheckedPointer(pattern.floatPointer), vp = UncheckedPointer(values.floatPointer), zp = UncheckedPointer(z.floatPointer)
        parallelFor(b * h, cost: t * s * d, grain: 1 << 15) { pairs in
            for pair in pairs {
                let r = pair / h, head = pair % h
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(t), Int32(d), Int32(s), 1,
                            pp.p + (r * h + head) * t * s, Int32(s),
                            vp.p + r * cap * kvh * d + (head / group) * d, Int32(kvh * d),
                            0, zp.p + r * t * h * d + head * d, Int32(h * d))
            }
        }
        try visit(ids.z, &z)
        var oIn = z.reshape([b, t, h * d])                                     // [B, T, heads*hd]
        try visit(ids.oProjInput, &oIn)
        return lw.o(oIn)
    }

    /// Visits a cache view; a replacement is written back into the cache.
    func visitCacheView(_ point: Int, _ view: inout Tensor, _ full: Tensor, _ s: Int) throws {
        let before = view
        try visit(point, &view)
        if view.storage !== before.storage {
            full.slice(dim: 1, end: s).assign(view)
            view = full.slice(dim: 1, end: s)
        }
    }
}
