import NSIIR

extension Pass {
    /// Common-subexpression elimination: a pure instruction that computes what an earlier
    /// one computes (the same op on the same values, with the same type) at the same
    /// block, phase, steps and guard is dropped and its uses go to the earlier one. The
    /// invoke matters only to reads (which copy the invoke's rows); a read is merged only
    /// if no write to its point in the block lies between the two. Effects never merge.
    public static let cse = Pass(name: "cse", verb: "merged") { program in
        struct Key: Hashable {
            var op: Op
            var type: ValueType?
            var block: Int
            var invoke: Int?
            var writesBefore: Int
            /// Float equality calls 0.0 and -0.0 the same; their bits do not.
            var floatBits: [UInt64]
            var phase: Phase
            var steps: StepSet
            var guardValue: ValueID?
        }
        var canonical: [ValueID: ValueID] = [:]
        var seen: [Key: ValueID] = [:]
        // Per block and point: how many writes so far, so a read is keyed by the writes before it.
        var writes: [[Int]: Int] = [:]
        var keep = Array(repeating: true, count: program.instructions.count)
        for (i, raw) in program.instructions.enumerated() {
            let ins = raw.renamed { canonical[$0] ?? $0 }
            let a = ins.anchor
            if case .write(let p, _, _, _) = ins.op { writes[[a.block, p], default: 0] += 1 }
            if ins.op.isEffect { continue }
            var invoke: Int? = nil
            var writesBefore = 0
            if ins.op.traits.role == .readsState {
                // Reads copy the invoke's rows; reads separated by a write see different
                // tensors: the count of writes to the point tells them apart.
                invoke = a.invoke
                if case .readPoint(let p) = ins.op { writesBefore = writes[[a.block, p]] ?? 0 }
            }
            let key = Key(op: ins.op, type: ins.type, block: a.block, invoke: invoke, writesBefore: writesBefore, floatBits: floatBits(ins.op),
                          phase: a.phase, steps: a.steps, guardValue: a.guardValue)
            if let earlier = seen[key] {
                canonical[ins.id] = earlier
                keep[i] = false
            } else {
                seen[key] = ins.id
            }
        }
        let merged = keep.filter { !$0 }.count
        return (merged == 0 ? program : program.compacted(keep: keep, replace: canonical), merged)
    }
}

/// The bit patterns of the floats an op holds, so values that compare equal but differ
/// (0.0 and -0.0) are never merged.
func floatBits(_ op: Op) -> [UInt64] {
    func bits(_ c: ConstValue) -> [UInt64] {
        switch c {
        case .float(let f): return [f.bitPattern]
        case .list(let items): return items.flatMap(bits)
        default: return []
        }
    }
    switch op {
    case .constant(let c): return bits(c)
    case .tensorConstant(_, let data): return data.map { UInt64($0.bitPattern) }
    case .fill(_, let value), .fillLike(_, let value): return [value.bitPattern]
    default: return []
    }
}
