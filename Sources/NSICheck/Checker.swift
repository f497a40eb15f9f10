import Foundation
import NSIIR
import NSIModel
import NSISource
import NSISyntax
import NSITensor

/// What the checker produced: the program (nil when there are errors) and every diagnostic.
public struct CheckResult: Sendable {
    public let program: Program?
    public let diagnostics: [Diagnostic]
    /// With `recordTypes`: what each checked expression is, for tools (hover in `nsi lsp`).
    public var expressions: [CheckedExpression] = []
    public var hasErrors: Bool { diagnostics.hasErrors }
}

/// An expression the checker typed: its range, type, and for an access point read, the
/// point's names. An expression checked several times (a loop body) keeps its first type.
public struct CheckedExpression: Sendable, Equatable {
    public let range: SourceRange
    public let type: ValueType
    /// The compile-time value, when it has one (`model.num_layers`, a param's int).
    public let constant: String?
    /// For a read of an access point, the point (described on demand by `point`).
    let accessPoint: Point?
    public let isRunTimeParam: Bool?
    /// For an expression inside static loops, the loop values of its first check
    /// (`["l = 0"]`): a point read there is another point in each iteration.
    public var loopValues: [String] = []

    /// For a read of an access point: its canonical and Hugging Face names, and what it is.
    public var point: (canonical: [String], huggingFace: [String], summary: String)? {
        accessPoint.map { ($0.canonicalNames.map(displayName), $0.hfNames, $0.kind.summary) }
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.range == b.range && a.type == b.type && a.constant == b.constant && a.accessPoint?.id == b.accessPoint?.id && a.isRunTimeParam == b.isRunTimeParam
    }
}

/// Checks a parsed script against a model signature: names, shapes, causality, params.
/// Static loops are unrolled and static `if`s resolved while checking, so the program it
/// returns is the whole experiment as an intervention graph.
public struct Checker {
    /// Bound on unrolled loop iterations, so no script makes compiling run long.
    public static let maxIterations = 100_000
    /// Bound on the expressions checked (each unrolled iteration checks its body again), so
    /// no short script makes checking take long or much memory; a host (the server) may
    /// set a lower one.
    public static let maxExpressions = 500_000

    /// `files` decides what `load(...)` may read; without one, files relative to
    /// `baseDirectory` (or absolute) are read, as the CLI does for a script on disk.
    public static func check(_ parsed: ParseResult, signature: ModelSignature,
                             params: [String: String] = [:], baseDirectory: String = ".", files: FilePolicy? = nil,
                             recordTypes: Bool = false, buildProgram: Bool = true) -> CheckResult {
        let context = CheckContext(file: parsed.file, signature: signature, paramOverrides: params,
                                   files: files ?? .relativeTo(baseDirectory))
        context.recordTypes = recordTypes
        context.checkScript(parsed.script)
        // Unrolled loops report one problem once per iteration: keep the first of each.
        var seen = Set<String>()
        let diagnostics = context.diagnostics.filter {
            seen.insert("\($0.code)|\($0.primary.range)|\($0.message)").inserted
        }
        let program = diagnostics.hasErrors || !buildProgram ? nil : context.program()
        var result = CheckResult(program: program, diagnostics: diagnostics)
        if recordTypes {
            // In source order, the first record of a range kept (an unrolled loop checks
            // its body once per iteration).
            let ordered = context.recorded.enumerated().sorted {
                ($0.element.range.start, $0.element.range.end, $0.offset) < ($1.element.range.start, $1.element.range.end, $1.offset)
            }
            var expressions: [CheckedExpression] = []
            expressions.reserveCapacity(ordered.count)
            for (_, e) in ordered where expressions.last?.range != e.range { expressions.append(e) }
            result.expressions = expressions
        }
        return result
    }
}

/// The block (trace or generate) being checked, with the sizes its points have.
/// A prompt checked: its invoke and, for a value computed when the plan runs, that value
/// (named by a `prompt` instruction once the invoke's anchor is known) and its length.
struct CheckedPrompt {
    var invoke: Invoke
    var value: ValueRef? = nil
    var length: ShapeDim? = nil
}

struct BlockState {
    var index: Int
    var isGenerate: Bool
    var hasPrompt: Bool
    /// Padded prompt length: known when every prompt is known when compiling.
    var tokens: ShapeDim
    var invokes: [Invoke] = []
    var maxTokens: Int = 1
    /// Modules skipped in this pass: (invoke, steps, module id).
    var skipped: [(Int, StepSet, Int)] = []
    /// Per invoke (-1: the trace's own prompt), where its `backward` is.
    var backwards: [Int: SourceRange] = [:]
}

final class CheckContext {
    let file: SourceFile
    let signature: ModelSignature
    let paramOverrides: [String: String]
    let files: FilePolicy
    var diagnostics: [Diagnostic] = []
    var instructions: [Instruction] = []
    /// Expressions checked so far, against `Checker.maxExpressions`.
    var expressionsChecked = 0
    var budgetSpent: Bool { expressionsChecked > Checker.maxExpressions }
    var params: [ParamInfo] = []
    var saves: [SaveInfo] = []
    var saveRanges: [String: SourceRange] = [:]
    var blocks: [ProgramBlock] = []
    var scopes: [Scope] = [Scope(kind: .script)]
    var block: BlockState?
    var invoke: Int?
    var steps: StepSet = .prompt
    var guardValue: ValueID?
    var iterations = 0
    /// Whether a generate block has finished (or is the current one), for `result`.
    var lastGenerate: Int?
    var generatedWidth: ShapeDim = .symbol("L")
    var insideStepBody = false
    /// Random draws given no `seed` so far: the next takes the stream after them.
    var unseededDraws = 0
    /// `seed s`: the seed of the default streams (0 without one), and where it was set.
    var scriptSeed: (Int, SourceRange)?
    /// For tools: the type of every expression checked, by range (`Checker.check(recordTypes:)`).
    var recordTypes = false
    var recorded: [CheckedExpression] = []
    /// The static loops being unrolled, innermost last, as `l = 3`: what a recorded
    /// expression's first check saw.
    var loopValues: [String] = []

    init(file: SourceFile, signature: ModelSignature, paramOverrides: [String: String], files: FilePolicy) {
        self.file = file
        self.signature = signature
        self.paramOverrides = paramOverrides
        self.files = files
    }

    func program() -> Program {
        Program(params: params, blocks: blocks, instructions: instructions, saves: saves, signatureHash: signature.hash)
    }

    // MARK: Diagnostics

    func report(_ message: CheckMessage, at range: SourceRange, secondary: [Label] = [], notes: [String] = [], help: String? = nil) {
        var d = Diagnostic(message, at: range)
        d.secondary += secondary
        d.notes += notes
        if let help { d.help = help }
        diagnostics.append(d)
    }

    func text(_ range: SourceRange) -> String {
        String(decoding: file.bytes[range.start..<min(range.end, file.bytes.count)], as: UTF8.self)
    }

    // MARK: Instructions

    /// A source range with its line and column, as plans record it.
    func span(_ r: SourceRange) -> SourceSpan {
        let loc = file.location(of: r.start)
        return SourceSpan(start: r.start, end: r.end, line: loc.line, column: loc.column)
    }

    /// Inside a block, the block's; outside every block, before the first block or after the
    /// last one checked (so a top-level `let` or a prompt may use what that block computed).
    var currentAnchor: Anchor {
        if let b = block { return Anchor(block: b.index, invoke: invoke, phase: .before, steps: steps, guardValue: guardValue) }
        return Anchor(block: blocks.count - 1, invoke: nil, phase: blocks.isEmpty ? .before : .after, steps: .prompt, guardValue: guardValue)
    }

    /// Appends an instruction; its phase is the latest of its operands' (and the guard's).
    @discardableResult
    func emit(_ op: Op, type: ValueType?, operands: [ValueRef], range: SourceRange, phase: Phase? = nil,
              sourcePoint: Int? = nil) -> ValueRef {
        var anchor = currentAnchor
        let outside = anchor.phase
        anchor.phase = phase ?? operands.map { effectivePhase($0) }.max() ?? .before
        if block == nil { anchor.phase = max(anchor.phase, outside) }
        if let g = guardValue, let gi = instructions.first(where: { $0.id == g }) {
            anchor.phase = max(anchor.phase, gi.anchor.phase)
        }
        let id = ValueID(instructions.count)
        instructions.append(Instruction(id: id, op: op, type: type, anchor: anchor, range: span(range)))
        let point = sourcePoint ?? operands.compactMap(\.sourcePoint).max()
        return ValueRef(id: id, type: type ?? .int, constant: nil, anchor: anchor, range: range, sourcePoint: point)
    }

    /// The phase a value has when used in the current block and steps: values from earlier
    /// blocks, and values of step 0 used at later steps only, are there before the pass.
    func effectivePhase(_ v: ValueRef) -> Phase { currentAnchor.phase(of: v.anchor) }

    /// A compile-time constant as a value; the instruction is made when something needs it.
    func constant(_ c: ConstValue, type: ValueType, range: SourceRange) -> ValueRef {
        ValueRef(id: nil, type: type, constant: c, anchor: currentAnchor, range: range, sourcePoint: nil)
    }

    /// The instruction of a value used as an operand. Every value has one (constants get
    /// theirs from `materialize`) but a list of values computed at run time, which only
    /// `cat` and `stack` take: used anywhere else, it is reported here, and a placeholder
    /// keeps the check going (a script with errors makes no program).
    func operandID(_ v: ValueRef) -> ValueID {
        if let id = v.id { return id }
        if v.constant == nil { report(.runTimeList(v.type), at: v.range) }
        return ValueID(-1)
    }

    /// Makes sure a value has an instruction (constants get one on first use).
    func materialize(_ v: ValueRef) -> ValueRef {
        if v.id != nil { return v }
        guard let c = v.constant else { return v }
        var r = emit(.constant(c), type: v.type, operands: [], range: v.range, phase: .before)
        r.constant = c
        return r
    }

    // MARK: Scopes

    func lookup(_ name: String) -> (Symbol, SourceRange)? {
        for scope in scopes.reversed() {
            if let s = scope.symbols[name] { return s }
        }
        return nil
    }

    func define(_ name: String, _ symbol: Symbol, at range: SourceRange) {
        let scope = scopes[scopes.count - 1]
        if let (_, earlier) = scope.symbols[name] {
            report(.duplicateDefinition(name), at: range, secondary: [Label(earlier, "first defined here")])
            return
        }
        if scopes.dropLast().contains(where: { $0.symbols[name] != nil }) && !name.hasPrefix("_") {
            report(.shadowed(name), at: range)
        }
        scope.symbols[name] = (symbol, range)
        scope.order.append(name)
    }

    func withScope(_ kind: Scope.Kind, _ body: () -> Void) {
        let scope = Scope(kind: kind, steps: steps, guardValue: guardValue)
        scopes.append(scope)
        body()
        scopes.removeLast()
        // Block and invoke bodies export their top-level names to the scope around them.
        if scope.exports {
            for name in scope.order {
                guard let (symbol, range) = scope.symbols[name] else { continue }
                let outer = scopes[scopes.count - 1]
                if let (_, earlier) = outer.symbols[name] {
                    if case .indexed(let mine, _) = symbol, case .indexed(let theirs, let r) = outer.symbols[name]!.0 {
                        outer.symbols[name] = (.indexed(theirs.merging(mine) { a, _ in a }, range: r), earlier)
                        continue
                    }
                    report(.duplicateDefinition(name), at: range, secondary: [Label(earlier, "first defined here")])
                    continue
                }
                outer.symbols[name] = (symbol, range)
                outer.order.append(name)
            }
        }
    }

    /// The scope that holds indexed names defined in loops: the nearest one that is not a loop body.
    /// The diagnostics `body` reports; everything else it does (instructions, saves, names,
    /// block state, draws) is undone.
    func trialDiagnostics(_ body: () -> Void) -> [Diagnostic] {
        let state = (instructions, saves, saveRanges, block, unseededDraws, guardValue, invoke)
        let scopeState = scopes.map { ($0, $0.symbols, $0.order) }
        let before = diagnostics.count
        body()
        let found = Array(diagnostics[before...])
        diagnostics.removeSubrange(before...)
        (instructions, saves, saveRanges, block, unseededDraws, guardValue, invoke) = state
        for (scope, symbols, order) in scopeState { scope.symbols = symbols; scope.order = order }
        scopes = scopeState.map(\.0)
        return found
    }

    var indexedScope: Scope {
        scopes.last { $0.kind == .script || $0.kind == .block || $0.kind == .invoke } ?? scopes[0]
    }
}
