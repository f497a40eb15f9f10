import NSITensor

/// Shared prefixes in one trace pass. In a sweep many rows hold the same prompt and
/// differ only by what the plan writes into them, from some layer and some position on;
/// everywhere else they are the same computation. Rows with the same tokens (and padding)
/// form a group. Its source, the row written last (or never), is computed everywhere;
/// every other row is computed only from the layer of its first write, and only at the
/// positions from its first written one: causal attention keeps every earlier position
/// as the source has it, so those positions, their keys and values are the source's.
/// A hook still sees every row at every position, filled in from the source.
public struct RowSharing: Sendable, Equatable {
    /// Per row: the first layer at which a hook writes into it (0 for the embedding, the
    /// layer count for the final norm and the logits), nil when nothing writes it.
    public var firstWrite: [Int?]
    /// Per row: the first position of the pass a write may change (0 when not known).
    public var firstPosition: [Int]

    public init(firstWrite: [Int?], firstPosition: [Int]) {
        self.firstWrite = firstWrite
        self.firstPosition = firstPosition
    }

    /// Of rows that are the same computation, the one computed everywhere: the one left
    /// alone the longest (never written beats any layer; the first of those on a tie).
    public static func source(of rows: [Int], firstWrite: [Int?]) -> Int {
        rows.max { (firstWrite[$0] ?? .max, -$0) < (firstWrite[$1] ?? .max, -$1) }!
    }
}

/// What sharing saved in a pass, counted in token-layers (one position of one row through
/// one decoder layer): those computed, against all of them.
public struct SharingReport: Sendable, Equatable {
    /// A row computed from `layer` on (the layer count: only the final norm and head;
    /// nil: never, all of it is `source`'s), at positions from `position`.
    public struct Fork: Sendable, Equatable {
        public let row: Int, source: Int, layer: Int?, position: Int
    }
    public let tokenLayersComputed: Int
    public let tokenLayersTotal: Int
    public let forks: [Fork]

    /// What a pass would share, before it runs: rows with the same `group` hold the same
    /// `tokens` tokens (the review in `nsi dump`). nil when nothing would be shared.
    public static func predict(groups: [Int], tokens: Int, sharing: RowSharing, layers: Int) -> SharingReport? {
        let t = max(tokens, 1)
        return SharePlan(ids: groups.map { Array(repeating: $0, count: t) }, valid: groups.map { _ in Array(repeating: true, count: t) },
                         positions: groups.map { _ in Array(0..<t) }, sharing: sharing, layers: layers)?.report
    }
}

/// The rows of a pass as it computes them. Physical rows are ordered by the layer they
/// start at, so the rows computed at any layer are a prefix; each computed row holds its
/// window of positions `first..<T`, packed one after another (`offset`).
struct SharePlan {
    let tokens: Int
    let order: [Int]        // physical row -> logical row
    let logicalToPhysical: [Int]
    let fork: [Int]         // per physical row: the layer at whose input it starts (layers + 1: never)
    let source: [Int]       // per physical row: the physical row whose values it shares (itself if none)
    let first: [Int]        // per physical row: the first position it computes
    let offset: [Int]       // per physical row and one past the last: packed offset of its window
    let activeAt: [Int]     // per stage 0...layers (the last: final norm and head): rows computed, a prefix
    let report: SharingReport

    /// nil when every row computes everything.
    init?(ids: [[Int]], valid: [[Bool]], positions: [[Int]], sharing: RowSharing, layers: Int) {
        let b = ids.count, t = ids.first?.count ?? 0
        guard sharing.firstWrite.count == b, sharing.firstPosition.count == b, b > 1, t > 0 else { return nil }
        struct Key: Hashable { let ids: [Int], valid: [Bool], positions: [Int] }
        var groups: [Key: [Int]] = [:]
        for r in 0..<b { groups[Key(ids: ids[r], valid: valid[r], positions: positions[r]), default: []].append(r) }
        let never = layers + 1
        var forkOf = Array(repeating: 0, count: b), sourceOf = Array(0..<b), firstOf = Array(repeating: 0, count: b)
        func position(_ r: Int) -> Int { sharing.firstWrite[r] == nil ? t : min(max(sharing.firstPosition[r], 0), t) }
        for rows in groups.values where rows.count > 1 {
            let rep = RowSharing.source(of: rows, firstWrite: sharing.firstWrite)
            for r in rows where r != rep {
                // The source's own writes change its values from its first written position,
                // so a row shares no later position than that.
                let p = min(position(r), position(rep))
                let f = sharing.firstWrite[r].map { min(max($0, 0), layers) } ?? never
                guard p > 0 || f > 0 else { continue }
                forkOf[r] = p == t ? never : f
                sourceOf[r] = rep
                firstOf[r] = p == t ? t : p
            }
        }
        guard (0..<b).contains(where: { sourceOf[$0] != $0 }) else { return nil }
        tokens = t
        order = (0..<b).sorted { (forkOf[$0], $0) < (forkOf[$1], $1) }
        var l2p = Array(repeating: 0, count: b)
        for (p, r) in order.enumerated() { l2p[r] = p }
        logicalToPhysical = l2p
        fork = order.map { forkOf[$0] }
        source = order.map { l2p[sourceOf[$0]] }
        first = order.map { forkOf[$0] == never ? t : firstOf[$0] }
        var off = [0]
        for p in 0..<b { off.append(off[p] + t - first[p]) }
        offset = off
        activeAt = (0...layers).map { l in forkOf.filter { $0 <= l }.count }
        let computed = activeAt.prefix(layers).reduce(0) { $0 + off[$1] }
        report = SharingReport(tokenLayersComputed: computed, tokenLayersTotal: b * t * layers,
                               forks: (0..<b).filter { sourceOf[$0] != $0 }.map {
                                   .init(row: $0, source: sourceOf[$0], layer: forkOf[$0] == never ? nil : forkOf[$0], position: firstOf[$0])
                               })
    }

    /// Physical rows' values of per-row data.
    func physical<T>(_ rows: [T]) -> [T] { order.map { rows[$0] } }

    /// Rows that start at `layer` take their source's values in their window, in the
    /// packed `x` [N, ...] (the rows computed before `layer` are a prefix of it).
    func forkRows(at layer: Int, in x: Tensor) {
        for p in fork.indices where fork[p] == layer && layer > 0 {
            let src = offset[source[p]] + first[p]
            x.slice(dim: 0, start: offset[p], end: offset[p + 1])
                .assign(x.slice(dim: 0, start: src, end: src + tokens - first[p]))
        }
    }
}

/// How a pass's tensors are laid out: every computed row's window of positions, packed
/// along one dimension. Without sharing that is every row at every position, so a
/// packed [B·T, ...] tensor is the hook's [B, T, ...] one as it is.
struct PackedRows {
    let tokens: Int
    /// Rows computed now: the first `active` physical rows.
    let active: Int
    let first: [Int]
    let offset: [Int]
    /// Every computed row holds every position.
    var uniform: Bool { first.prefix(active).allSatisfy { $0 == 0 } }
    var count: Int { offset[active] }

    init(rows: Int, tokens: Int) {
        self.tokens = tokens
        active = rows
        first = Array(repeating: 0, count: rows)
        offset = (0...rows).map { $0 * tokens }
    }

    init(_ plan: SharePlan, stage: Int) {
        tokens = plan.tokens
        active = plan.activeAt[stage]
        first = plan.first
        offset = plan.offset
    }

    func window(_ p: Int) -> Range<Int> { offset[p]..<offset[p + 1] }

    /// Row `p`'s window of a packed tensor, shaped as one row of the hook's tensor with
    /// the positions cut to the window. `tokenDim` is where a row's positions lie (0 for
    /// [T, ...], 1 for the attention scores [heads, T, S], packed per row as [heads, n, S]).
    func view(_ packed: Tensor, _ p: Int, rowShape: [Int], tokenDim: Int) -> Tensor {
        let n = tokens - first[p]
        var shape = rowShape
        shape[tokenDim] = n
        let perToken = rowShape.reduce(1, *) / tokens
        let flat = packed.reshape([packed.count])
        return flat.slice(dim: 0, start: offset[p] * perToken, end: offset[p + 1] * perToken).reshape(shape)
    }
}
