import NSIIR
import NSIModel

/// Where a trace's rows are first written, as the plan says: the input of shared
/// prefixes (`RowSharing` in the runtime). One definition for the VM and `nsi dump`.
public enum PrefixSharing {
    /// The first write into an invoke's rows: its layer (the embedding counts as layer 0,
    /// the final norm and the logits as the layer count) and the first position it may
    /// change (0 when the plan does not say).
    public struct Write: Equatable, Sendable {
        public var layer: Int
        public var position: Int
    }

    /// Per invoke of trace block `block`: its first write, nil when nothing writes its
    /// rows. A write of no invoke counts for every invoke; a block that skips a module
    /// writes every row from the start. `tokens` is the invoke's prompt length when known
    /// (positions counted from the end need it), `value` an int the plan holds before
    /// the pass (nil when it is not known yet).
    public static func firstWrites(_ program: Program, block: Int, points: PointTable, layers: Int,
                                   tokens: Int?, value: (ValueID) -> Int?) -> [Write?] {
        let invokes = program.blocks[block].invokes.count
        var first = [Write?](repeating: nil, count: invokes)
        func note(_ w: Write, _ invoke: Int?) {
            for k in invoke.map({ [$0] }) ?? Array(0..<invokes) where k < invokes {
                first[k] = first[k].map { Write(layer: min($0.layer, w.layer), position: min($0.position, w.position)) } ?? w
            }
        }
        for ins in program.instructions where ins.anchor.block == block {
            switch ins.op {
            case .skip:
                for k in 0..<invokes { note(Write(layer: 0, position: 0), k) }
            case .write(let point, let index, _, _):
                let p = points.points[point]
                let layer = p.layer ?? (point <= points.embed ? 0 : layers)
                var position = 0
                if let d = p.shape.firstIndex(of: .tokens), d < index.count {
                    position = firstPosition(index[d], tokens: tokens, value: value) ?? 0
                }
                note(Write(layer: layer, position: position), ins.anchor.invoke)
            default:
                continue
            }
        }
        return first
    }

    /// An int the plan fixes when it is compiled (a constant, or a param's default when
    /// `defaults`), for review without running it.
    public static func constantInt(_ program: Program, _ id: ValueID, defaults: Bool) -> Int? {
        switch program.instructions[id.index].op {
        case .constant(.int(let i)): return i
        case .param(let name) where defaults:
            guard case .int(let i)? = program.params.first(where: { $0.name == name })?.value else { return nil }
            return i
        default: return nil
        }
    }

    /// The first position an index item along the positions selects, when known.
    static func firstPosition(_ item: IndexItem, tokens: Int?, value: (ValueID) -> Int?) -> Int? {
        func normalized(_ i: Int) -> Int? {
            guard i < 0 else { return i }
            return tokens.map { max($0 + i, 0) }
        }
        switch item {
        case .at(let v):
            return value(v).flatMap(normalized)
        case .slice(let a, _, let step):
            if let step, (value(step) ?? 0) <= 0 { return nil }
            guard let a else { return 0 }
            return value(a).flatMap(normalized)
        case .gather:
            return nil
        }
    }

    /// Per invoke of trace block `block`: the positions of the logits its instructions
    /// use (in the invoke's `tokens` positions), nil when they may use any: a write to the
    /// logits, or a read used otherwise than at one known position. The head needs to run
    /// for those positions only.
    public static func logitPositions(_ program: Program, block: Int, points: PointTable, tokens: Int,
                                      value: (ValueID) -> Int?) -> [[Int]?] {
        let invokes = program.blocks[block].invokes.count
        var positions = [[Int]?](repeating: [], count: invokes)
        let mine = program.instructions.filter { $0.anchor.block == block }
        var reads: [ValueID: Int?] = [:]   // read of the logits -> its invoke
        func note(_ invoke: Int?, _ p: Int?) {
            for k in invoke.map({ [$0] }) ?? Array(0..<invokes) where k < invokes {
                positions[k] = p.flatMap { p in positions[k].map { $0.contains(p) ? $0 : $0 + [p] } }
            }
        }
        for ins in mine where ins.anchor.phase == .point(points.logits) {
            switch ins.op {
            case .readPoint: reads[ins.id] = ins.anchor.invoke
            case .write: note(ins.anchor.invoke, nil)
            default: continue
            }
        }
        guard !reads.isEmpty else { return positions }
        let position = points.points[points.logits].shape.firstIndex(of: .tokens) ?? 1
        for ins in program.instructions {
            for operand in ins.op.operands {
                guard let invoke = reads[operand] else { continue }
                // One position of the read: `logits[b, t, ...]` with `t` known before the pass.
                if case .index(operand, let items) = ins.op, position < items.count, case .at(let v) = items[position],
                   !items.flatMap(\.operands).contains(operand), let i = value(v), i >= -tokens, i < tokens {
                    note(invoke, i < 0 ? tokens + i : i)
                } else {
                    note(invoke, nil)
                }
            }
        }
        return positions
    }
}
