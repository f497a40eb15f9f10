import NSIIR
import NSIModel

/// Where a trace's rows are first looked at, as the plan says: the input of shared
/// prefixes (`RowSharing` in the runtime). One definition for the VM and `nsi dump`.
public enum PrefixSharing {
    /// Per invoke of trace block `block`: the first layer at which an instruction is
    /// anchored to it (the embedding counts as layer 0; the final norm and the logits, or
    /// nothing at all, as `layers`). An instruction of no invoke counts for every invoke,
    /// and a block that skips a module is looked at from the start.
    public static func firstAccess(_ program: Program, block: Int, points: PointTable, layers: Int) -> [Int] {
        let invokes = program.blocks[block].invokes.count
        var first = Array(repeating: layers, count: invokes)
        for ins in program.instructions where ins.anchor.block == block {
            let l: Int
            switch ins.anchor.phase {
            case .point(let p): l = points.points[p].layer ?? (p <= points.embed ? 0 : layers)
            case .before:
                guard case .skip = ins.op else { continue }
                l = 0
            case .after: continue
            }
            for k in ins.anchor.invoke.map({ [$0] }) ?? Array(0..<invokes) where k < invokes { first[k] = min(first[k], l) }
            if case .skip = ins.op { first = first.map { _ in 0 } }
        }
        return first
    }
}
