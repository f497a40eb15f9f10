import NSIIR

/// One named rewrite of the program. `run` returns the new program and how many
/// instructions it changed.
public struct Pass: Sendable {
    public var name: String
    /// Past tense of what the pass does to an instruction: "folded", "merged", "removed".
    public var verb: String
    public var run: @Sendable (Program) -> (Program, Int)

    public init(name: String, verb: String, run: @escaping @Sendable (Program) -> (Program, Int)) {
        self.name = name
        self.verb = verb
        self.run = run
    }

    /// fold, cse, dce: each leaves ids dense (renumbered after anything is removed).
    public static let standard: [Pass] = [.fold, .cse, .dce]
}

/// What one pass did.
public struct PassReport: Sendable, Equatable, CustomStringConvertible {
    public var pass: String
    public var verb: String
    public var changed: Int
    public var before: Int
    public var after: Int

    /// `cse: 12 merged (452 -> 440 instructions)`
    public var description: String { "\(pass): \(changed) \(verb) (\(before) -> \(after) instructions)" }
}

public enum Optimizer {
    /// Runs the passes in order, verifying the program before the first and after each.
    public static func optimize(_ program: Program, passes: [Pass] = Pass.standard) throws(VerifierError) -> (Program, [PassReport]) {
        try Verifier.verify(program, after: "input (the checker)")
        var current = program
        var reports: [PassReport] = []
        for pass in passes {
            let before = current.instructions.count
            let (next, changed) = pass.run(current)
            try Verifier.verify(next, after: pass.name)
            reports.append(PassReport(pass: pass.name, verb: pass.verb, changed: changed, before: before, after: next.instructions.count))
            current = next
        }
        return (current, reports)
    }

    /// One line for a dump: `passes: fold 3 folded, cse 12 merged, dce 40 removed: 452 -> 397 instructions`.
    public static func summary(_ reports: [PassReport]) -> String {
        guard let first = reports.first, let last = reports.last else { return "passes: none" }
        return "passes: " + reports.map { "\($0.pass) \($0.changed) \($0.verb)" }.joined(separator: ", ")
            + ": \(first.before) -> \(last.after) instructions"
    }
}

extension Program {
    /// Keeps the instructions `keep` says to, renaming each use through `replace` first
    /// (a merged value's uses go to the value kept), then numbers the ids densely.
    func compacted(keep: [Bool], replace: [ValueID: ValueID] = [:]) -> Program {
        var newID: [Int] = Array(repeating: -1, count: instructions.count)
        var out: [Instruction] = []
        for (i, ins) in instructions.enumerated() where keep[i] {
            newID[i] = out.count
            out.append(ins.renamed { v in ValueID(newID[(replace[v] ?? v).index]) }.with(id: ValueID(out.count)))
        }
        var p = self
        p.instructions = out
        return p
    }
}
