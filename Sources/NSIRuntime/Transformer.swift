import NSIModel
import Foundation
import NSITensor

/// Which logits a forward pass computes.
public enum LogitsMode: Sendable {
    /// Every position, [B, T, vocab] (a trace, or when a hook reads the logits point).
    case all
    /// Only the last slot of each row, [B, 1, vocab] (generation).
    case last
    /// None returned: the pass runs for its hooks (the head still runs when a hook reads the logits).
    case none
}

/// A decoder-only transformer of any registered family (see `ModelFamily`) over loaded
/// weights; what a block computes comes from the config's `Block`. Immutable
/// after loading, so one instance serves many runs at once; per-run state lives in
/// `KVCache` and `Hooks`.
public final class Transformer: @unchecked Sendable {
    public let config: ModelConfig
    public let weights: ModelWeights
    public let points: PointTable
    /// The weights scripts may read, by canonical name.
    public let weightTable: [String: WeightTensor]
    let inverseFrequencies: [Float]
    /// The rotary frequencies of layers with `block.localRope` (Gemma 3's sliding layers).
    let localInverseFrequencies: [Float]
    private let lmHeadLock = NSLock()
    private var lmHeadColumnsCache: Tensor?

    public init(config: ModelConfig, weights: ModelWeights) {
        self.config = config
        self.weights = weights
        points = PointTable(config: config)
        weightTable = Dictionary(config.weightTable().map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let rotary = config.block.positions == .rotary
        inverseFrequencies = rotary ? config.inverseFrequencies() : []
        localInverseFrequencies = rotary && config.block.localRope.contains(true) ? config.inverseFrequencies(local: true) : []
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

    /// `h` [..., hidden] times the output head: [..., vocab], soft-capped where the family caps.
    func projectToVocabulary(_ h: Tensor) -> Tensor {
        let logits = applyHead(h)
        if let cap = config.block.logitSoftcap { logits.softcapInPlace(Float(cap)) }
        return logits
    }

    /// The output head alone (`model.lm_head`).
    func applyHead(_ h: Tensor) -> Tensor {
        let rows = h.count / config.hiddenSize
        // Few rows, or a head kept at its stored width: read the [vocab, hidden] rows in place.
        if rows <= SmallGemm.maxRows || weights.lmHead.dtype != .f32 { return h.linear(weights.lmHead) }
        return h.contiguous().reshape([rows, config.hiddenSize]).matmul(lmHeadColumns())
            .reshape(Array(h.shape.dropLast()) + [config.vocabSize])
    }

    /// Embedding rows of `ids` in f32 (`model.embed_tokens`'s output), or nil for an id
    /// outside the vocabulary.
    func embedRows(_ ids: Tensor) -> Tensor? {
        guard let rows = weights.embed.indexSelect(dim: 0, indices: ids) else { return nil }
        return rows.dtype == .f32 ? rows : rows.cast(to: .f32)
    }

    /// Runs one forward pass over `ids` [B][T] that continues `cache` (whose length is
    /// the number of slots already processed), appending this pass's keys and values.
    /// Returns the logits; nil when `hooks.stopAfter` ended the pass early or `mode` is
    /// `.none`. `sharing` (a trace's single pass) lets rows with the same tokens share
    /// their computation up to where each is first written (see `RowSharing`).
    public func forward(ids: [[Int]], valid: [[Bool]], positions: [[Int]], cache: KVCache,
                        hooks: Hooks? = nil, step: Int = 0, logits mode: LogitsMode = .all,
                        sharing: RowSharing? = nil) throws -> Tensor? {
        let b = ids.count, t = ids.first?.count ?? 0
        guard b == cache.rows, ids.allSatisfy({ $0.count == t }), valid.count == b, positions.count == b else {
            throw RuntimeError(.internal, "forward: batch of \(b) rows does not match the cache's \(cache.rows) rows")
        }
        guard cache.length + t <= cache.capacity else {
            throw RuntimeError(.positions, "forward: \(cache.length + t) positions exceed the cache capacity of \(cache.capacity)")
        }
        if config.block.positions == .learned, let p = positions.joined().max(), p >= config.maxPositions {
            throw RuntimeError(.positions, "position \(p) is beyond the model's \(config.maxPositions) learned positions")
        }
        // A fresh cache only: later passes would need the shared rows' keys and values. The
        // cache views of `attn.k`/`attn.v` are read in place, so a hook there turns it off.
        let kvHooked = hooks.map { h in points.layers.contains { h.isHooked($0.k) || h.isHooked($0.v) } } ?? false
        let share = sharing.flatMap { cache.length == 0 && !kvHooked && hooks?.tape == nil
            ? SharePlan(ids: ids, valid: valid, positions: positions, sharing: $0, layers: config.numLayers) : nil }
        hooks?.sharingReport = share?.report
        let rowIds = share?.physical(ids) ?? ids, rowValid = share?.physical(valid) ?? valid
        let rowPositions = share?.physical(positions) ?? positions
        for r in 0..<b { for s in 0..<t { cache.valid[r][cache.length + s] = rowValid[r][s] } }
        var pass = ForwardPass(model: self, cache: cache, hooks: hooks, step: step, rows: b, tokens: t,
                               positions: rowPositions, share: share,
                               layout: share.map { PackedRows($0, stage: 0) } ?? PackedRows(rows: b, tokens: t))
        pass.enter(pass.layout)
        if let tape = hooks?.tape {
            guard share == nil, cache.length == 0 else {
                throw RuntimeError(.internal, "forward: a recorded pass shares no rows and starts from an empty cache")
            }
            var logits: Tensor?
            do { logits = try pass.runRecorded(ids: rowIds, tape: tape) } catch is StopForward {}
            cache.length += t
            guard mode != .none, let logits else { return nil }
            let full = logits.reshape([b, t, config.vocabSize])
            return mode == .last ? full.slice(dim: 1, start: t - 1).contiguous() : full
        }
        do {
            let logits = try pass.run(ids: rowIds, mode: mode)
            cache.length += t
            return logits
        } catch is StopForward {
            cache.length += t
            return nil
        }
    }
}

/// The state of one forward pass; `run` reads top to bottom in the model's own order.
/// Tensors inside the pass are packed: the positions each computed row holds (`layout`)
/// one after another, [N, ...]. Without shared prefixes that is every row at every
/// position, and [B·T, ...] is the hooks' [B, T, ...] as it is.
struct ForwardPass {
    let model: Transformer
    let cache: KVCache
    let hooks: Hooks?
    let step: Int
    let rows: Int            // B
    let tokens: Int          // T
    let positions: [[Int]]   // [B][T], physical rows
    let share: SharePlan?
    /// The rows and positions computed now (changes by layer when rows share prefixes).
    var layout: PackedRows
    /// Per packed position: its position id, and the rotary tables for them.
    var tokenPositions: [Int] = []
    var rotary: (cos: [Float], sin: [Float]) = ([], [])
    var localRotary: (cos: [Float], sin: [Float]) = ([], [])
    var c: ModelConfig { model.config }

    /// Makes `l` the rows and positions computed from here on.
    mutating func enter(_ l: PackedRows) {
        layout = l
        tokenPositions = (0..<l.active).flatMap { positions[$0][l.first[$0]...] }
        rotary = model.inverseFrequencies.isEmpty ? ([], [])
            : Rotary.tables(positions: tokenPositions, inverseFrequencies: model.inverseFrequencies)
        localRotary = model.localInverseFrequencies.isEmpty ? ([], [])
            : Rotary.tables(positions: tokenPositions, inverseFrequencies: model.localInverseFrequencies)
    }

    /// Hands the tensor at `point` to its hook, if any; a replacement must keep the shape.
    @inline(__always)
    func visit(_ point: Int, _ x: inout Tensor) throws {
        guard let hooks else { return }
        if let hook = hooks.handlers[point] {
            let info = model.points.points[point]
            let ctx = HookContext(point: info, step: step)
            // One row of the hook's tensor: [T, ...], or [heads, T, S] for the scores.
            let tokenDim = info.kind == .scores || info.kind == .pattern ? 1 : 0
            var rowShape = tokenDim == 1 ? [c.numHeads, tokens, cache.length + tokens] : [tokens] + x.shape.dropFirst()
            if info.kind == .k || info.kind == .v { rowShape = Array(x.shape.dropFirst()) }   // cache views, [B, S, ...]
            if let share {
                try visitShared(hook, ctx, share, rowShape: rowShape, tokenDim: tokenDim, &x)
            } else {
                let full = x.reshape([rows] + rowShape)
                if let replacement = try hook(full, ctx) {
                    guard replacement.shape == full.shape else {
                        throw RuntimeError(.input, "a hook at \(info.name) returned shape \(describeShape(replacement.shape)), expected \(describeShape(full.shape))")
                    }
                    let r = replacement.dtype == .f32 && replacement.isContiguous ? replacement : replacement.cast(to: .f32).contiguous()
                    x = r.reshape(x.shape)
                }
            }
        }
        if hooks.stopAfter == point { throw StopForward() }
    }

    /// With shared prefixes the hook still gets every row at every position, in the
    /// caller's order: what a row does not compute is its source's. What it writes into
    /// the computed windows comes back (nothing writes elsewhere: see `RowSharing`).
    func visitShared(_ hook: PointHook, _ ctx: HookContext, _ share: SharePlan, rowShape: [Int], tokenDim: Int,
                     _ x: inout Tensor) throws {
        let full = assemble(x, share, rowShape: rowShape, tokenDim: tokenDim)
        let result = try hook(full, ctx) ?? full
        guard result.shape == full.shape else {
            throw RuntimeError(.input, "a hook at \(ctx.point.name) returned shape \(describeShape(result.shape)), expected \(describeShape(full.shape))")
        }
        let values = result.dtype == .f32 ? result : result.cast(to: .f32)
        if !x.isContiguous { x = x.contiguous() }
        for p in 0..<layout.active {
            layout.view(x, p, rowShape: rowShape, tokenDim: tokenDim)
                .assign(values.select(dim: 0, index: share.order[p]).slice(dim: tokenDim, start: layout.first[p]))
        }
    }

    /// The caller's [B, ...] tensor of a packed one: each computed row's window, and its
    /// source's values everywhere else.
    func assemble(_ packed: Tensor, _ share: SharePlan, rowShape: [Int], tokenDim: Int) -> Tensor {
        let x = packed.contiguous()
        let full = Tensor(zeros: [share.order.count] + rowShape)
        for p in 0..<layout.active {
            full.select(dim: 0, index: share.order[p]).slice(dim: tokenDim, start: layout.first[p])
                .assign(layout.view(x, p, rowShape: rowShape, tokenDim: tokenDim))
        }
        for p in share.order.indices where p >= layout.active || layout.first[p] > 0 {
            let end = p < layout.active ? layout.first[p] : tokens
            full.select(dim: 0, index: share.order[p]).slice(dim: tokenDim, end: end)
                .assign(full.select(dim: 0, index: share.order[share.source[p]]).slice(dim: tokenDim, end: end))
        }
        return full
    }

    func skipped(_ kind: ModuleKind, _ layer: Int) -> Bool {
        hooks?.skipModule[model.points.module(kind, layer: layer)] ?? false
    }

    mutating func run(ids: [[Int]], mode: LogitsMode) throws -> Tensor? {
        let w = model.weights
        let packedIds = (0..<layout.active).flatMap { ids[$0][layout.first[$0]...] }
        guard var x = model.embedRows(Tensor(shape: [packedIds.count], int64s: packedIds.map(Int64.init))) else {
            throw RuntimeError(.input, "token id out of range for a vocabulary of \(c.vocabSize)")
        }                                                                      // [N, hidden]
        if let scale = c.block.embeddingScale { x.scaleInPlace(Float(scale)) }
        if let wpe = w.positions {
            let pos = Tensor(shape: [tokenPositions.count], int64s: tokenPositions.map(Int64.init))
            x.binaryInPlace(.add, wpe.indexSelect(dim: 0, indices: pos)!)
        }
        try visit(model.points.embed, &x)
        if let share {
            // Room for every row's window; the rows computed at a layer are a prefix.
            let state = Tensor(zeros: [share.offset.last!, c.hiddenSize])
            state.slice(dim: 0, end: x.shape[0]).assign(x)
            for l in 0..<c.numLayers {
                share.forkRows(at: l, in: state)
                if l > 0 && share.activeAt[l] != share.activeAt[l - 1] { enter(PackedRows(share, stage: l)) }
                let computed = state.slice(dim: 0, end: layout.count)
                computed.assign(try layer(l, computed))
            }
            share.forkRows(at: c.numLayers, in: state)
            enter(PackedRows(share, stage: c.numLayers))
            x = state.slice(dim: 0, end: layout.count)
        } else {
            for l in 0..<c.numLayers { x = try layer(l, x) }
        }
        var h = try norm(x, w.norm, w.normBias, scale: model.points.normScale)  // [N, hidden]
        try visit(model.points.norm, &h)
        let hooked = hooks?.isHooked(model.points.logits) ?? false
        if mode == .none && !hooked { return nil }
        if mode == .none, let wanted = hooks?.logitPositions, wanted.count == rows, !wanted.contains(where: { $0 == nil }) {
            try visitSomeLogits(h, wanted.map { $0! })
            return nil
        }
        if mode == .last && !hooked && share == nil {
            let last = h.reshape([rows, tokens, c.hiddenSize]).select(dim: 1, index: tokens - 1).unsqueeze(1)
            return model.projectToVocabulary(last)                             // [B, 1, vocab]
        }
        var logits = model.projectToVocabulary(h)                              // [N, vocab]
        try visit(model.points.logits, &logits)
        if mode == .none { return nil }
        let full = share.map { assemble(logits, $0, rowShape: [tokens, c.vocabSize], tokenDim: 0) }
            ?? logits.reshape([rows, tokens, c.vocabSize])                     // [B, T, vocab]
        return mode == .last ? full.slice(dim: 1, start: tokens - 1).contiguous() : full
    }

    /// The logits point when the hooks use a few positions of it: the head runs for
    /// those only, and the hook gets zeros everywhere else.
    func visitSomeLogits(_ h: Tensor, _ wanted: [[Int]]) throws {
        var pick: [Int64] = [], slot: [Int: Int] = [:], place: [(row: Int, position: Int, k: Int)] = []
        for (r, list) in wanted.enumerated() {
            for position in list where position >= 0 && position < tokens {
                let i = packedIndex(row: r, position: position)
                if slot[i] == nil { slot[i] = pick.count; pick.append(Int64(i)) }
                place.append((r, position, slot[i]!))
            }
        }
        let part = pick.isEmpty ? Tensor(zeros: [0, c.vocabSize])
            : model.projectToVocabulary(h.indexSelect(dim: 0, indices: Tensor(shape: [pick.count], int64s: pick))!)   // [K, vocab]
        let full = Tensor(sparseZeros: [rows, tokens, c.vocabSize])
        for (r, position, k) in place { full.select(dim: 0, index: r).select(dim: 0, index: position).assign(part.select(dim: 0, index: k)) }
        guard let hooks, let hook = hooks.handlers[model.points.logits] else { return }
        _ = try hook(full, HookContext(point: model.points.points[model.points.logits], step: step))
    }

    /// Where the packed tensors hold row `row` (the caller's order) at `position`: its
    /// own window, or its source's.
    func packedIndex(row: Int, position: Int) -> Int {
        guard let share else { return row * tokens + position }
        let p = share.logicalToPhysical[row]
        if p < layout.active && position >= layout.first[p] { return layout.offset[p] + position - layout.first[p] }
        return layout.offset[share.source[p]] + position
    }

    func norm(_ x: Tensor, _ weight: Tensor, _ bias: Tensor?) -> Tensor {
        model.normalize(x, weight, bias)
    }

    /// A norm whose per-position factor is the point `scale`: computed on its own and
    /// handed to the point's hooks when something looks at it, fused otherwise.
    func norm(_ x: Tensor, _ weight: Tensor, _ bias: Tensor?, scale point: Int?) throws -> Tensor {
        guard let point, let hooks, hooks.isHooked(point) || hooks.stopAfter == point else { return norm(x, weight, bias) }
        let layerNorm = c.block.norm == .layerNorm
        var s = x.normScale(layerNorm: layerNorm, eps: Float(c.normEps))
        try visit(point, &s)
        return x.normalized(scale: s, weight: weight, bias: bias, layerNorm: layerNorm)
    }

    /// One decoder block over the packed positions, as `Block` describes it.
    mutating func layer(_ l: Int, _ input: Tensor) throws -> Tensor {
        let ids = model.points.layers[l]
        let b = c.block
        var x = input
        if skipped(.layer, l) {
            try visit(ids.output, &x)
            return x
        }
        let lw = model.weights.layers[l]
        var a = x                                                              // [N, hidden]
        if b.preAttentionNorm, let w = lw.attnNorm {
            a = try norm(x, w, lw.attnNormBias, scale: ids.attnNormScale)
            try visit(ids.attnNorm, &a)
        }
        // A skipped attention or MLP contributes nothing: its output is zero.
        var attnOut = skipped(.attn, l) ? Tensor(zeros: a.shape) : try attention(l, a, lw, ids)   // [N, hidden]
        try visit(ids.attnOutput, &attnOut)
        if let point = ids.attnPostNorm, let w = lw.attnPostNorm {
            attnOut = norm(attnOut, w, nil)
            try visit(point, &attnOut)
        }
        var mid = x + attnOut                                                  // [N, hidden]
        try visit(ids.residMid, &mid)
        var m = b.parallel ? x : mid                                           // [N, hidden]
        if b.preMLPNorm, let w = lw.mlpNorm {
            m = try norm(m, w, lw.mlpNormBias, scale: ids.mlpNormScale)
            try visit(ids.mlpNorm, &m)
        }
        var mlpOut = skipped(.mlp, l) ? Tensor(zeros: m.shape) : try mlp(lw, m, ids)  // [N, hidden]
        try visit(ids.mlpOutput, &mlpOut)
        if let point = ids.mlpPostNorm, let w = lw.mlpPostNorm {
            mlpOut = norm(mlpOut, w, nil)
            try visit(point, &mlpOut)
        }
        mid.binaryInPlace(.add, mlpOut)
        try visit(ids.output, &mid)
        return mid
    }

    func mlp(_ lw: LayerWeights, _ m: Tensor, _ ids: LayerPointIds) throws -> Tensor {
        var act: Tensor                                                        // [N, inter]
        if let fc = lw.fc {
            var h = fc(m)
            try visit(ids.mlpProj[0], &h)
            act = h.unary(model.activationOp)
        } else if let gateUp = lw.gateUp {
            var gu = gateUp(m)                                                 // [N, 2*inter]
            try visit(ids.mlpProj[0], &gu)
            let inter = c.intermediateSize
            act = model.gated(gu.slice(dim: 1, end: inter).contiguous(), gu.slice(dim: 1, start: inter).contiguous())
        } else {
            var g = lw.gate!(m), u = lw.up!(m)
            try visit(ids.mlpProj[0], &g)
            try visit(ids.mlpProj[1], &u)
            act = model.gated(g, u)
        }
        try visit(ids.mlpAct, &act)
        return lw.down(act)
    }
}
