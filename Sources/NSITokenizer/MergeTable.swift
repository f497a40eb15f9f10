/// BPE merges keyed by the ids of the two tokens they join, packed into one integer so
/// that the hot lookup hashes a single word instead of two strings.
struct MergeTable: Sendable {
    struct Merge: Sendable {
        /// Position in the merges list; lower ranks merge first.
        let rank: Int32
        /// The token the pair becomes.
        let result: Int32
    }

    private var table: [UInt64: Merge] = [:]

    init(capacity: Int) {
        table.reserveCapacity(capacity)
    }

    @inline(__always)
    static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    /// A pair listed twice keeps its later rank, as the reference implementation's map does.
    mutating func insert(left: Int32, right: Int32, merge: Merge) {
        table[MergeTable.key(left, right)] = merge
    }

    @inline(__always)
    func merge(_ left: Int32, _ right: Int32) -> Merge? {
        table[MergeTable.key(left, right)]
    }
}
