import NSIModel
import Foundation
import NSITensor

/// Which logits a forward pass computes.
public enum LogitsMode: Sendable {
    /// Every position, [B, T, vocab] (a trace, or when a hook reads the logits point).
    case all
    /// Only the last slot of each row, [B, 1, vocab] (generation).
    case last
}

/// A decoder-only transformer (Llama family or GPT-2) over loaded weights. Immutable
/// after loading, so one instance serves many runs at once; per-run state lives in
/// `KVCache` and `Hooks`.
public final class Transformer: @unchecked Sendable {
    public let config: ModelConfig
    public let weights: ModelWeights
    public let points: PointTable
    let inverseFrequencies: [Float]
    private let lmHeadLock = NSLock()
    private var lmHeadColumnsCache: Tensor?

    public init(config: ModelConfig, weights: ModelWeights) {
        self.config = config
        self.weights = weights
        points = PointTable(config: config)
        inverseFrequencies = config.architecture == .llama ? config.inverseFrequencies() : []
    }

    /// Loads config.json and the safetensors weights of a Hugging Face model folder.
    public convenience init(directory: String) throws {
        let config = try ModelConfig.load(directory: directory)
        let archive = try SafetensorsArchive(directory: directory)
        try self.init(config: config, weights: ModelWeights(archive: archive, config: config))
    }

    /// The output head as [hidden, vocab] columns, made on first use: for more rows than
    /// the own kernel takes, OpenBLAS multiplies by it about twice as fast as by the
    /// transposed [vocab, hidden] rows.
    func lmHeadColumns() -> Tensor {
        lmHeadLock.lock()
        defer { lmHeadLock.unlock() }
        if let t = lmHeadColumnsCache { return t }
        let t = weights.lmHead.mT.contiguous()
        lmHeadColumnsCache = t
        return t
    }

    /// `h` [B, T, hidden] times the output head: [B, T, vocab].
    func projectToVocabulary(_ h: Tensor) -> Tensor {
        let rows = h.count / config.hiddenSize
        // Few rows: nsi's own kernel reads the [vocab, hidden] rows in place.
        if rows <= SmallGemm.maxRows { return h.linear(weights.lmHead) }
        return h.contiguous().reshape([rows, config.hiddenSize]).matmul(lmHeadColumns())
            .reshape(Array(h.shape.dropLast()) + [config.vocabSize])
    }

    /// Runs one forward pass over `ids` [B][T] that continues `cache` (whose length is
    /// the number of slots already processed), appending this pass's keys and values.
    /// Returns the logits, or nil when `hooks.stopAfter` ended the pass early.
    /// `sharing` (a trace's single pass) lets rows with the same tokens share their
    /// computation up to the layer where each is first looked at (see `RowSharing`).
    public func forward(ids: [[Int]], valid: [[Bool]], positions: [[Int]], cache: KVCache,
                        hooks: Hooks? = nil, step: Int = 0, logits mode: LogitsMode = .all,
                        sharing: RowSharing? = nil) throws -> Tensor? {
        let b = ids.count, t = ids.first?.count ?? 0
        guard b == cache.rows, ids.allSatisfy({ $0.count == t }), valid.count == b, positions.count == b else {
            throw RuntimeError("forward: batch of \(b) rows does not match the cache's \(cache.rows) rows")
        }
        guard cache.length + t <= cache.capacity else {
            throw RuntimeError("forward: \(cache.length + t) positions exceed the cache capacity of \(cache.capacity)")
        }
        if config.architecture == .gpt2, let p = positions.joined().max(), p >= config.maxPositions {
            throw RuntimeError("position \(p) is beyond the model's \(config.maxPositions) learned positions")
        }
        // A fresh cache only: later passes would need the skipped rows' keys and values. The
        // cache views of `attn.k`/`attn.v` are read in place, so a hook there turns it off.
        let kvHooked = hooks.map { h in points.layers.contains { h.isHooked($0.k) || h.isHooked($0.v) } } ?? false
        let share = sharing.flatMap { cache.length == 0 && !kvHooked
            ? SharePlan(ids: ids, valid: valid, positions: positions, sharing: $0, layers: config.numLayers) : nil }
        hooks?.sharingReport = share?.report
        let rowIds = share?.physical(ids) ?? ids, rowValid = share?.physical(valid) ?? valid
        let rowPositions = share?.physical(positions) ?? positions
        for r in 0..<b { for s in 0..<t { cache.valid[r][cache.length + s] = rowValid[r][s] } }
        var pass = ForwardPass(model: self, cache: cache, hooks: hooks, step: step, rows: b, tokens: t,
                               positions: rowPositions, share: share)
        do {
            var logits = try pass.run(ids: rowIds, mode: mode)
            if let share {   // back in the caller's row order
                logits = logits.indexSelect(dim: 0, indices: Tensor(shape: [b], int64s: share.logicalToPhysical.map(Int64.init)))!
            }
            cache.length += t
            return logits
        } catch is StopForward {
            cache.length += t
            return nil
        }
    }
}

/// The state of one forward pass; `run` reads top to bottom in the model's own order.
struct ForwardPass {
    let model: Transformer
    let cache: KVCache
    let hooks: Hooks?
    let step: Int
    var rows: Int            // B, or the rows computed at this layer when rows share a prefix
    let tokens: Int          // T
    var positions: [[Int]]   // [B][T] (the computed rows')
    var share: SharePlan? = nil
    var c: ModelConfig { model.config }

    /// Hands the tensor at `point` to its hook, if any; a replacement must keep the shape.
    @inline(__always)
    func visit(_ point: Int, _ x: inout Tensor) throws {
        guard let hooks else { return }
        if let hook = hooks.handlers[point] {
            let info = model.points.points[point]
            if let share {
                try visitShared(hook, info, share, &x)
            } else if let replacement = try hook(x, HookContext(point: info, step: step)) {
                guard replacement.shape == x.shape else {
                    throw RuntimeError("a hook at \(info.name) returned shape \(describeShape(replacement.shape)), expected \(describeShape(x.shape))")
                }
                x = replacement.dtype == .f32 && replacement.isContiguous ? replacement : replacement.cast(to: .f32).contiguous()
            }
        }
        if hooks.stopAfter == point { throw StopForward() }
    }

    /// With shared prefixes the pass computes rows in its own order, some not yet: the
    /// hook gets the batch in the caller's order (rows not computed yet are zeros, and no
    /// hook addresses them), and what it writes comes back.
    func visitShared(_ hook: PointHook, _ info: Point, _ share: SharePlan, _ x: inout Tensor) throws {
        let n = x.shape[0]
        let full = Tensor(zeros: [share.order.count] + Array(x.shape.dropFirst()))
        for p in 0..<n { full.select(dim: 0, index: share.order[p]).assign(x.select(dim: 0, index: p)) }
        let result = try hook(full, HookContext(point: info, step: step)) ?? full
        guard result.shape == full.shape else {
            throw RuntimeError("a hook at \(info.name) returned shape \(describeShape(result.shape)), expected \(describeShape(full.shape))")
        }
        let values = result.dtype == .f32 ? result : result.cast(to: .f32)
        for p in 0..<n { x.select(dim: 0, index: p).assign(values.select(dim: 0, index: share.order[p])) }
    }

    func skipped(_ kind: ModuleKind, _ layer: Int) -> Bool {
        hooks?.skipModule[model.points.module(kind, layer: layer)] ?? false
    }

    mutating func run(ids: [[Int]], mode: LogitsMode) throws -> Tensor {
        let w = model.weights
        let flatIds = Tensor(shape: [rows, tokens], int64s: ids.joined().map(Int64.init))
        guard var x = w.embed.indexSelect(dim: 0, indices: flatIds) else {   // [B, T, hidden]
            throw RuntimeError("token id out of range for a vocabulary of \(c.vocabSize)")
        }
        if let wpe = w.positions {
            let pos = Tensor(shape: [rows, tokens], int64s: positions.joined().map(Int64.init))
            x.binaryInPlace(.add, wpe.indexSelect(dim: 0, indices: pos)!)
        }
        try visit(model.points.embed, &x)
        let allRows = rows, allPositions = positions
        for l in 0..<c.numLayers {
            guard let share else {
                x = try layer(l, x)
                continue
            }
            // Rows that start here take their source's state; the computed rows are a prefix.
            share.forkRows(at: l, in: x)
            let n = share.activeAt[l]
            rows = n
            positions = Array(allPositions[0..<n])
            if n == allRows {
                x = try layer(l, x)
            } else {
                let prefix = x.slice(dim: 0, start: 0, end: n)
                let out = try layer(l, prefix)
                prefix.assign(out)
            }
        }
        if let share {
            share.forkRows(at: c.numLayers, in: x)
            rows = allRows
            positions = allPositions
        }
        var h = norm(x, w.norm, w.normBias)                                   // [B, T, hidden]
        try visit(model.points.norm, &h)
        let hooked = hooks?.isHooked(model.points.logits) ?? false
        if mode == .last && !hooked && tokens > 1 {
            let last = h.select(dim: 1, index: tokens - 1).unsqueeze(1)
            return model.projectToVocabulary(last)                             // [B, 1, vocab]
        }
        var logits = model.projectToVocabulary(h)                              // [B, T, vocab]
        try visit(model.points.logits, &logits)
        return mode == .last ? logits.slice(dim: 1, start: tokens - 1).contiguous() : logits
    }

    func norm(_ x: Tensor, _ weight: Tensor, _ bias: Tensor?) -> Tensor {
        c.architecture == .gpt2
            ? x.layerNorm(weight: weight, bias: bias, eps: Float(c.normEps))
            : x.rmsNorm(weight: weight, eps: Float(c.normEps))
    }

    /// One decoder block: x + attn(norm(x)), then + mlp(norm(...)).
    mutating func layer(_ l: Int, _ input: Tensor) throws -> Tensor {
        let ids = model.points.layers[l]
        var x = input
        if skipped(.layer, l) {
            try visit(ids.output, &x)
            return x
        }
        let lw = model.weights.layers[l]
        var a = norm(x, lw.attnNorm, lw.attnNormBias)                          // [B, T, hidden]
        try visit(ids.attnNorm, &a)
        var attnOut = skipped(.attn, l) ? a : try attention(l, a, lw, ids)     // [B, T, hidden]
        try visit(ids.attnOutput, &attnOut)
        var mid = x + attnOut                                                  // [B, T, hidden]
        try visit(ids.residMid, &mid)
        var m = norm(mid, lw.mlpNorm, lw.mlpNormBias)                          // [B, T, hidden]
        try visit(ids.mlpNorm, &m)
        var mlpOut = skipped(.mlp, l) ? m : try mlp(lw, m, ids)                // [B, T, hidden]
        try visit(ids.mlpOutput, &mlpOut)
        mid.binaryInPlace(.add, mlpOut)
        try visit(ids.output, &mid)
        return mid
    }

    func mlp(_ lw: LayerWeights, _ m: Tensor, _ ids: LayerPointIds) throws -> Tensor {
        var act: Tensor                                                        // [B, T, inter]
        if let fc = lw.fc {
            var h = fc(m)
            try visit(ids.mlpProj[0], &h)
            act = h.unary(c.hiddenAct == "gelu" ? .gelu : .geluTanh)
        } else {
            var g = lw.gate!(m), u = lw.up!(m)
            try visit(ids.mlpProj[0], &g)
            try visit(ids.mlpProj[1], &u)
            act = siluMul(g, u)
        }
        try visit(ids.mlpAct, &act)
        return lw.down(act)
    }

    /// silu(g) * u in one pass.
    func siluMul(_ g: Tensor, _ u: Tensor) -> Tensor {
        let out = Tensor(zeros: g.shape)
        let p = (UncheckedPointer(g.floatPointer), UncheckedPointer(u.floatPointer), UncheckedPointer(out.floatPointer))
        parallelFor(g.count, cost: 8) { r in
            let (g, u, o) = (p.0.p, p.1.p, p.2.p)
            for i in r { let x = g[i]; o[i] = x / (1 + expf(-x)) * u[i] }
        }
        return out
    }
}
