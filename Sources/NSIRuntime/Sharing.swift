import NSITensor

/// Shared prefixes in one trace pass. In a sweep many rows hold the same prompt and
/// differ only by what the plan does to them, from some layer on; until then they are
/// the same computation. Rows with the same tokens (and padding) form a group; the row
/// of the group that is left alone the longest is computed from the start, and every
/// other row starts at the layer of its first hooked access, copying that row's hidden
/// state there. Nothing looked at or changed a row before that layer, so its values are
/// the ones it would have computed itself, row by row the same arithmetic.
public struct RowSharing: Sendable, Equatable {
    /// Per row: the first layer at which a hook reads or writes it (0 for the embedding,
    /// the layer count for the final norm and the logits, or when nothing does).
    public var firstAccess: [Int]
    public init(firstAccess: [Int]) { self.firstAccess = firstAccess }

    /// Of rows that are the same computation, the one computed from the start: the one
    /// left alone the longest (the first of those on a tie). Every other row of the group
    /// starts at its own first access, copying this one's state there.
    public static func source(of rows: [Int], firstAccess: [Int]) -> Int {
        rows.max { (firstAccess[$0], -$0) < (firstAccess[$1], -$1) }!
    }
}

/// What sharing saved in a pass: rows times layers computed, against all of them.
public struct SharingReport: Sendable, Equatable {
    /// A row that started late: at `layer`, from `source`'s state.
    public struct Fork: Sendable, Equatable {
        public let row: Int, source: Int, layer: Int
    }
    public let rowLayersComputed: Int
    public let rowLayersTotal: Int
    public let forks: [Fork]
}

/// The rows of a pass in the order they are computed: rows that start later come later,
/// so the rows computed at any layer are a prefix of the batch.
struct SharePlan {
    let order: [Int]        // physical row -> logical row
    let logicalToPhysical: [Int]
    let fork: [Int]         // per physical row: the layer at whose input it starts
    let source: [Int]       // per physical row: the physical row it copies there (itself if none)
    let activeAt: [Int]     // per layer 0...L: physical rows computed (a prefix)
    let report: SharingReport

    /// nil when no row would start late.
    init?(ids: [[Int]], valid: [[Bool]], positions: [[Int]], sharing: RowSharing, layers: Int) {
        let b = ids.count
        guard sharing.firstAccess.count == b, b > 1 else { return nil }
        struct Key: Hashable { let ids: [Int], valid: [Bool], positions: [Int] }
        var groups: [Key: [Int]] = [:]
        for r in 0..<b { groups[Key(ids: ids[r], valid: valid[r], positions: positions[r]), default: []].append(r) }
        var forkOf = Array(repeating: 0, count: b), sourceOf = Array(0..<b)
        for rows in groups.values where rows.count > 1 {
            let rep = RowSharing.source(of: rows, firstAccess: sharing.firstAccess)
            for r in rows where r != rep {
                forkOf[r] = min(max(sharing.firstAccess[r], 0), layers)
                sourceOf[r] = rep
            }
        }
        guard forkOf.contains(where: { $0 > 0 }) else { return nil }
        order = (0..<b).sorted { (forkOf[$0], $0) < (forkOf[$1], $1) }
        var l2p = Array(repeating: 0, count: b)
        for (p, r) in order.enumerated() { l2p[r] = p }
        logicalToPhysical = l2p
        fork = order.map { forkOf[$0] }
        source = order.map { l2p[sourceOf[$0]] }
        let active = (0...layers).map { l in forkOf.filter { $0 <= l }.count }
        activeAt = active
        let computed = active.prefix(layers).reduce(0, +)
        report = SharingReport(rowLayersComputed: computed, rowLayersTotal: b * layers,
                               forks: (0..<b).filter { forkOf[$0] > 0 }.map { .init(row: $0, source: sourceOf[$0], layer: forkOf[$0]) })
    }

    func physical<T>(_ rows: [T]) -> [T] { order.map { rows[$0] } }

    /// Rows that start at `layer` take their source's hidden state, in `x` [B, ...].
    func forkRows(at layer: Int, in x: Tensor) {
        for p in fork.indices where fork[p] == layer && source[p] != p {
            x.select(dim: 0, index: p).assign(x.select(dim: 0, index: source[p]))
        }
    }
}
