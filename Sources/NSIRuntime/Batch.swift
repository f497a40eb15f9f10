import NSIModel
/// Prompts of different lengths as one left-padded batch: every row ends at the same
/// slot, pad slots are masked out of attention, and real tokens keep positions 0, 1, ...
/// so each row computes what it would alone.
public struct PaddedBatch: Sendable, Equatable {
    public let ids: [[Int]]        // [B][T], pad slots hold `padId`
    public let valid: [[Bool]]     // [B][T]
    public let positions: [[Int]]  // [B][T], 0 on pad slots
    public let lengths: [Int]

    public init(prompts: [[Int]], padId: Int = 0) {
        let t = prompts.map(\.count).max() ?? 0
        var ids: [[Int]] = [], valid: [[Bool]] = [], positions: [[Int]] = []
        for p in prompts {
            let pad = t - p.count
            ids.append(Array(repeating: padId, count: pad) + p)
            valid.append(Array(repeating: false, count: pad) + Array(repeating: true, count: p.count))
            positions.append(Array(repeating: 0, count: pad) + Array(0..<p.count))
        }
        self.ids = ids
        self.valid = valid
        self.positions = positions
        lengths = prompts.map(\.count)
    }

    public var rows: Int { ids.count }
    public var length: Int { ids.first?.count ?? 0 }
}
