import NSIIR

/// What the verifier found wrong, and after which pass.
public struct VerifierError: Error, CustomStringConvertible, Equatable {
    public var pass: String
    public var instruction: Int
    public var detail: String

    public var description: String { "the IR is invalid after pass \(pass): %\(instruction): \(detail)" }
}

/// Checks the invariants every pass must keep: ids equal positions, operands are values
/// defined earlier that exist when the user runs, and anchors name real blocks,
/// invokes and steps.
public enum Verifier {
    public static func verify(_ program: Program, after pass: String) throws(VerifierError) {
        let code = program.instructions
        func fail(_ i: Int, _ detail: String) -> VerifierError { VerifierError(pass: pass, instruction: i, detail: detail) }
        var backwards: Set<[Int]> = []
        var prompts: Set<[Int]> = []
        for (i, ins) in code.enumerated() {
            guard ins.id.index == i else { throw fail(i, "has id \(ins.id) at position \(i)") }
            let a = ins.anchor
            guard a.block >= -1 && a.block < program.blocks.count else { throw fail(i, "names block \(a.block) of \(program.blocks.count)") }
            if let inv = a.invoke {
                guard a.block >= 0, inv >= 0, inv < program.blocks[a.block].invokes.count else { throw fail(i, "names invoke \(inv), which block \(a.block) lacks") }
            }
            switch a.phase {
            case .point(let p):
                guard p >= 0, a.block >= 0 else { throw fail(i, "runs at @\(p) outside a block's pass") }
            case .grad(let p):
                guard p >= 0, a.block >= 0, case .trace = program.blocks[a.block].kind else {
                    throw fail(i, "runs at the gradient of @\(p) outside a trace's pass")
                }
                guard backwards.contains([a.block, a.invoke ?? -1]) else { throw fail(i, "uses a gradient before its invoke's backward") }
            case .after:
                guard a.block >= 0 else { throw fail(i, "runs after the pass outside every block") }
            case .before: break
            }
            if a.block < 0 {
                guard a.steps == .prompt else { throw fail(i, "runs at \(a.steps) outside every block") }
            } else if case .trace = program.blocks[a.block].kind {
                guard a.steps.first == 0 && a.steps.isSingle else { throw fail(i, "runs at \(a.steps) in a trace") }
            }
            guard ins.op.isEffect == (ins.type == nil) else { throw fail(i, ins.type == nil ? "computes a value but has no type" : "is an effect with a type") }
            switch ins.op {
            case .backward:
                guard backwards.insert([a.block, a.invoke ?? -1]).inserted else { throw fail(i, "is a second backward in one invoke") }
            case .prompt(let v):
                guard let k = a.invoke, a.phase == .before, v.index < i else { throw fail(i, "is a prompt outside an invoke's set-up") }
                let o = code[v.index]
                guard o.anchor.block < a.block else { throw fail(i, "names a prompt computed in its own block, after the prompts are read") }
                var integerDims: [Int?]?
                if case .tensor(let d, let s)? = o.type, d.isInteger { integerDims = s.map(\.value) }
                var strings: Int?
                if case .strings(let n)? = o.type { strings = n }
                guard let rows = Invoke.promptRows(isString: o.type == .str, strings: strings, integerDims: integerDims),
                      rows == program.blocks[a.block].invokes[k].rows else {
                    throw fail(i, "names a prompt of type \(o.type.map { "\($0)" } ?? "none") for \(program.blocks[a.block].invokes[k].rows) rows")
                }
                let inv = program.blocks[a.block].invokes[k]
                guard inv.prompts == nil, inv.promptParam == nil else { throw fail(i, "names a prompt for an invoke that has one") }
                guard prompts.insert([a.block, k]).inserted else { throw fail(i, "is a second prompt of one invoke") }
            case .readPoint(let p), .write(let p, _, _, _):
                guard a.phase.point == p else { throw fail(i, "touches @\(p) but runs at \(a.phase)") }
            default: break
            }
            for v in ins.uses {
                guard v.index >= 0 && v.index < i else { throw fail(i, "uses \(v), which is not defined before it") }
                let o = code[v.index]
                guard o.type != nil else { throw fail(i, "uses \(v), an effect with no value") }
                guard Causality.guardImplies(a.guardValue?.index, o.anchor.guardValue?.index, conjuncts: { g in
                    if g >= 0, g < i, case .binary(.and, let x, let y) = code[g].op { return (x.index, y.index) }
                    return nil
                }) else {
                    throw fail(i, "uses \(v), computed under a condition (\(o.anchor.guardValue!)) its own does not imply")
                }
                guard a.causality(of: o.anchor) == .holds else {
                    throw fail(i, "uses \(v) (block \(o.anchor.block), \(o.anchor.phase)) which does not exist when it runs (block \(a.block), \(a.phase))")
                }
            }
        }
        for (b, block) in program.blocks.enumerated() {
            for (k, inv) in block.invokes.enumerated() where inv.prompts == nil && inv.promptParam == nil && !prompts.contains([b, k]) {
                throw VerifierError(pass: pass, instruction: -1, detail: "block \(b) invoke \(k) has no prompt")
            }
        }
    }
}
