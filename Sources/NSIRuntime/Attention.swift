import NSIModel
import CBLAS
import Foundation
import NSITensor

extension ForwardPass {
    /// Self-attention over the cache plus this pass's slots, for the packed positions
    /// `a` [N, hidden]. Keys/values go into the cache first, so `attn.k`/`attn.v` are
    /// views [B, S, kvHeads, headDim] of it.
    func attention(_ l: Int, _ a: Tensor, _ lw: LayerWeights, _ ids: LayerPointIds) throws -> Tensor {
        BLASSetup.prepare()   // the products below call cblas directly
        let n = a.shape[0], h = c.numHeads, kvh = c.numKVHeads, d = c.headDim
        var q: Tensor, k: Tensor, v: Tensor                                    // [N, heads, hd]
        let qWidth = h * d, kvWidth = kvh * d
        let b = c.block
        var copied = false
        if let qkv = lw.qkv {
            var fused = qkv(a)                                                 // [N, (heads + 2 kv) * hd]
            try visit(ids.qkvProj[0], &fused)
            if case .fusedPerHead = c.names.projections {
                // Per head [q_h; k_h; v_h] (GPT-NeoX; kv heads = heads).
                let perHead = fused.reshape([n, h, 3 * d])
                q = perHead.slice(dim: 2, start: 0, end: d).contiguous()
                k = perHead.slice(dim: 2, start: d, end: 2 * d).contiguous()
                v = perHead.slice(dim: 2, start: 2 * d, end: 3 * d).contiguous()
            } else {
                q = fused.slice(dim: 1, start: 0, end: qWidth).contiguous().reshape([n, h, d])
                k = fused.slice(dim: 1, start: qWidth, end: qWidth + kvWidth).contiguous().reshape([n, kvh, d])
                v = fused.slice(dim: 1, start: qWidth + kvWidth, end: qWidth + 2 * kvWidth).contiguous().reshape([n, kvh, d])
            }
            copied = true
        } else {
            var qp = lw.q!(a), kp = lw.k!(a), vp = lw.v!(a)
            try visit(ids.qkvProj[0], &qp)
            try visit(ids.qkvProj[1], &kp)
            try visit(ids.qkvProj[2], &vp)
            if b.qkNorm == .whole, let qn = lw.qNorm, let kn = lw.kNorm {
                // Over all heads at once, before they are split (OLMo 2).
                qp = qp.rmsNorm(weight: qn, eps: Float(c.normEps))
                kp = kp.rmsNorm(weight: kn, eps: Float(c.normEps))
                copied = true
            }
            q = qp.reshape([n, h, d])
            k = kp.reshape([n, kvh, d])
            v = vp.reshape([n, kvh, d])
        }
        if b.qkNorm == .perHead, let qn = lw.qNorm, let kn = lw.kNorm {
            q = q.rmsNorm(weight: qn, eps: Float(c.normEps))
            k = k.rmsNorm(weight: kn, eps: Float(c.normEps))
        } else if !copied, let hooks, hooks.isHooked(ids.qkvProj[0]) || hooks.isHooked(ids.qkvProj[1]) {
            // Rotary rotates in place: never through a hooked projection's storage (a
            // hook may have returned a tensor it still holds).
            q = q.copy()
            k = k.copy()
        }
        if b.positions == .rotary {
            let table = b.localRope[l] ? localRotary : rotary
            let rowIndex = Array(0..<n)
            Rotary.apply(q, cos: table.cos, sin: table.sin, tableRow: rowIndex, dims: b.rotaryDims)
            Rotary.apply(k, cos: table.cos, sin: table.sin, tableRow: rowIndex, dims: b.rotaryDims)
        }
        try visit(ids.q, &q)

        let start = cache.length, s = start + tokens
        let keys = cache.keys[l], values = cache.values[l]                    // [B, cap, kvh, hd]
        let active = layout.active
        if layout.uniform {
            let cut = { (t: Tensor) in active < t.shape[0] ? t.slice(dim: 0, end: active) : t }
            cut(keys).slice(dim: 1, start: start, end: s).assign(k.reshape([active, tokens, kvh, d]))
            cut(values).slice(dim: 1, start: start, end: s).assign(v.reshape([active, tokens, kvh, d]))
        } else {
            for p in 0..<active {
                let w = layout.window(p)
                keys.select(dim: 0, index: p).slice(dim: 0, start: start + layout.first[p], end: s)
                    .assign(k.slice(dim: 0, start: w.lowerBound, end: w.upperBound))
                values.select(dim: 0, index: p).slice(dim: 0, start: start + layout.first[p], end: s)
                    .assign(v.slice(dim: 0, start: w.lowerBound, end: w.upperBound))
            }
        }
        if let share {
            // Before its window a row's keys and values are its source's (see `RowSharing`).
            for p in 0..<active where layout.first[p] > 0 {
                let f = start + layout.first[p], src = share.source[p]
                keys.select(dim: 0, index: p).slice(dim: 0, start: start, end: f).assign(keys.select(dim: 0, index: src).slice(dim: 0, start: start, end: f))
                values.select(dim: 0, index: p).slice(dim: 0, start: start, end: f).assign(values.select(dim: 0, index: src).slice(dim: 0, start: start, end: f))
            }
        }
        if hooks.map({ $0.isHooked(ids.k) || $0.isHooked(ids.v) }) == true {   // never with shared prefixes
            var kView = keys.slice(dim: 0, end: active).slice(dim: 1, end: s)
            var vView = values.slice(dim: 0, end: active).slice(dim: 1, end: s)
            try visitCacheView(ids.k, &kView, keys.slice(dim: 0, end: active), s)
            try visitCacheView(ids.v, &vView, values.slice(dim: 0, end: active), s)
        }

        // Per computed row and head, a block [window, S] of scores = q·k / sqrt(hd), masked
        // by causality and padding; the blocks of a row are [heads, window, S].
        let total = layout.count
        var scores = Tensor(zeros: layout.uniform ? [active, h, tokens, s] : [total * h, s])
        let scale = Float(b.attentionScale)
        let softcap = b.attentionSoftcap.map(Float.init)
        let window = b.windows[l] ?? Int.max
        let group = h / kvh
        let qp = UncheckedPointer(q.floatPointer), kp = UncheckedPointer(keys.floatPointer), sp = UncheckedPointer(scores.floatPointer)
        let cap = cache.capacity
        let valid = cache.valid
        let first = layout.first, offset = layout.offset, tokens = tokens
        // Without a hook on the scores, each task also turns its rows into the pattern
        // (softmax over the unmasked keys; masked ones are 0 without an exp).
        let fused = !(hooks?.isHooked(ids.scores) ?? false)
        // Rows with padding among their first `s` slots (the others skip the per-key check).
        let padded = (0..<active).map { valid[$0].prefix(s).contains(false) }
        // Both products go by blocks of this many queries, each stopping at the last key
        // its last query sees.
        let queryBlock = 16
        // One (row, head) pair per task, over nsi's threads (OpenBLAS runs one per call).
        parallelFor(active * h, cost: tokens * s * d, grain: 1 << 15) { pairs in
            for pair in pairs {
                let r = pair / h, head = pair % h
                let t = tokens - first[r], block = sp.p + (offset[r] * h + head * t) * s
                // nsi's own product, whose rows do not depend on the rows beside them (sgemm's
                // rounding may depend on their count): a row computed from a later position
                // (shared prefixes) gets the bits it gets whole. Each block of rows stops at
                // the last key its last row may see: the later ones are masked below anyway.
                for i0 in stride(from: 0, to: t, by: queryBlock) {
                    let m = min(queryBlock, t - i0)
                    SmallGemm.runHere(m: m, n: min(s, start + first[r] + i0 + m), k: d, x: qp.p + (offset[r] + i0) * h * d + head * d, ldx: h * d,
                                      w: kp.p + r * cap * kvh * d + (head / group) * d, ldw: kvh * d, y: block + i0 * s, ldy: s)
                }
                let rowValid = valid[r]
                for i in 0..<t {
                    let row = block + i * s
                    let slot = start + first[r] + i
                    // The keys this query sees: [lo, slot], less the padding; a pad query
                    // attends only to itself, never to nothing. Only those are scaled and
                    // weighed; the rest are masked (-max) or, once the pattern, exact zeros,
                    // the bits the whole row would hold.
                    let selfOnly = !rowValid[slot]
                    let lo = selfOnly ? slot : (window == Int.max ? 0 : max(0, slot - window + 1)), hi = slot + 1
                    for j in lo..<hi { row[j] *= scale }
                    if let cap = softcap { for j in lo..<hi { row[j] = cap * tanhf(row[j] / cap) } }
                    let masked = -Float.greatestFiniteMagnitude
                    if padded[r] && !selfOnly { for j in lo..<hi where !rowValid[j] { row[j] = masked } }
                    let outside: Float = fused ? 0 : masked
                    for j in 0..<lo { row[j] = outside }
                    for j in hi..<s { row[j] = outside }
                    guard fused else { continue }
                    var top = masked
                    for j in lo..<hi { top = max(top, row[j]) }
                    var sum: Float = 0
                    for j in lo..<hi {
                        let e: Float = row[j] == masked ? 0 : expf(row[j] - top)
                        row[j] = e
                        sum += e
                    }
                    let inv = 1 / sum
                    for j in lo..<hi { row[j] *= inv }
                }
            }
        }
        var pattern: Tensor
        if fused {
            pattern = scores
        } else {
            try visit(ids.scores, &scores)
            pattern = scores.softmax(dim: -1)
        }
        try visit(ids.pattern, &pattern)

        // z[row, t, head, :] = pattern block (row, head) @ v[row, :, head / group, :]
        var z = Tensor(zeros: [total, h, d])                                   // [N, heads, hd]
        let pp = UncheckedPointer(pattern.contiguous().floatPointer), vp = UncheckedPointer(values.floatPointer)
        let zp = UncheckedPointer(z.floatPointer)
        // Where the pattern is the causal softmax itself (no hook on scores or pattern), a
        // query's weights past its own position are exact zeros, and each block of rows
        // leaves them out: leaving out zero terms changes no bit of the chain.
        let causal = fused && !(hooks?.isHooked(ids.pattern) ?? false)
        parallelFor(active * h, cost: tokens * s * d, grain: 1 << 15) { pairs in
            for pair in pairs {
                let r = pair / h, head = pair % h
                let t = tokens - first[r]
                let v = vp.p + r * cap * kvh * d + (head / group) * d
                // nsi's own product, row-independent as for the scores above, reading the
                // values in place.
                let rows = causal ? queryBlock : t
                for i0 in stride(from: 0, to: t, by: rows) {
                    let m = min(rows, t - i0)
                    let keys = causal ? min(s, start + first[r] + i0 + m) : s
                    SmallGemm.productHere(m: m, n: d, k: keys, x: pp.p + (offset[r] * h + head * t + i0) * s, ldx: s,
                                          w: v, ldw: kvh * d, y: zp.p + (offset[r] + i0) * h * d + head * d, ldy: h * d)
                }
            }
        }
        try visit(ids.z, &z)
        var oIn = z.reshape([total, h * d])                                    // [N, heads*hd]
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
