import NSIIR
import NSIModel
import NSISource
import NSISyntax
import NSITensor

extension CheckContext {
    func checkScript(_ script: Script) {
        // Params first, in order, so blocks see them all.
        for stmt in script.statements {
            if case .param(let p) = stmt.kind { checkParam(p, stmt.range) }
        }
        checkParamOverrides(script)
        for stmt in script.statements {
            switch stmt.kind {
            case .param: continue
            case .trace(let t): checkTrace(t, stmt.range)
            case .generate(let g): checkGenerate(g, stmt.range)
            case .binding(let b) where b.kind == .let:
                // Computed outside every block: before the first, or after the block before it.
                checkStatement(stmt)
            case .assign(let a) where { if case .name = chain(a.target).root.kind { return true }; return false }():
                checkStatement(stmt)   // an edit of a top-level `let`, computed there too
            case .seed(let e):
                checkSeed(e, stmt.range)
            default:
                report(.misplaced(describe(stmt), "at the top level of a script",
                                  help: "a script holds `param` declarations, `let` bindings and `trace`/`generate` blocks"), at: stmt.range)
            }
        }
    }

    func describe(_ stmt: Stmt) -> String {
        switch stmt.kind {
        case .seed: return "`seed`"
        case .param: return "`param`"
        case .trace: return "`trace`"
        case .generate: return "`generate`"
        case .invoke: return "`invoke`"
        case .step: return "`step`"
        case .eachStep: return "`each step`"
        case .binding(let b): return "`\(b.kind.rawValue)`"
        case .assign: return "an assignment"
        case .skip: return "`skip`"
        case .backward: return "`backward`"
        case .forLoop: return "`for`"
        case .ifElse: return "`if`"
        case .placeholder: return "`...`"
        case .expression: return "an expression"
        }
    }

    // MARK: Blocks

    func checkTrace(_ t: TraceBlock, _ range: SourceRange) {
        let index = blocks.count
        if let prompt = t.prompt {
            guard let p = promptInvoke(prompt) else { return }
            block = BlockState(index: index, isGenerate: false, hasPrompt: true, tokens: tokensDim([p]), invokes: [p.invoke])
            invoke = 0
            steps = .prompt
            emitPrompt(p)
            withScope(.block) { checkBody(t.body.statements) }
        } else {
            // Invokes are found first so every point shape uses the batch's padded length.
            var state = BlockState(index: index, isGenerate: false, hasPrompt: false, tokens: .known(0))
            state.tokens = tokensDim(collectInvokePrompts(t.body.statements))
            block = state
            invoke = nil
            steps = .prompt
            withScope(.block) { checkBody(t.body.statements) }
            if block?.invokes.isEmpty ?? true { report(.emptyTrace(), at: range) }
        }
        if let b = block { blocks.append(ProgramBlock(kind: .trace, invokes: b.invokes, range: span(range))) }
        block = nil
        invoke = nil
    }

    func checkGenerate(_ g: GenerateBlock, _ range: SourceRange) {
        guard let p = promptInvoke(g.prompt) else { return }
        let options = generateOptions(g.options)
        let index = blocks.count
        var state = BlockState(index: index, isGenerate: true, hasPrompt: true, tokens: tokensDim([p]), invokes: [p.invoke])
        state.maxTokens = options.maxTokens
        block = state
        invoke = 0
        steps = .prompt
        emitPrompt(p)
        lastGenerate = index
        // `result.ids`: the prompt and every token max_tokens allows (rows that end early are padded).
        generatedWidth = state.tokens.value.map { .known($0 + options.maxTokens) } ?? .symbol("L")
        withScope(.block) { checkBody(g.body.statements) }
        blocks.append(ProgramBlock(kind: .generate(options), invokes: [p.invoke], range: span(range)))
        block = nil
        invoke = nil
    }

    func generateOptions(_ args: [CallArgument]) -> GenerateOptions {
        var o = GenerateOptions(maxTokens: 16, temperature: 0, topK: nil, topP: nil, seed: 0)
        for arg in args {
            guard let label = arg.label else { continue }  // the parser reports unlabeled options
            guard let v = checkExpr(arg.value) else { continue }
            func int() -> Int? {
                if let i = v.constant?.intValue { return i }
                report(.unknownOption(label.name, "must be a compile-time integer"), at: arg.value.range)
                return nil
            }
            func float() -> Double? {
                if let f = v.constant?.numberValue, v.type == .int || v.type == .float { return f }
                report(.unknownOption(label.name, "must be a compile-time number"), at: arg.value.range)
                return nil
            }
            switch label.name {
            case "max_tokens":
                if let n = int() {
                    if n < 1 || n > 4096 { report(.unknownOption("max_tokens", "must be in 1...4096"), at: arg.value.range) }
                    else { o.maxTokens = n }
                }
            case "temperature":
                if let t = float() { if t < 0 { report(.unknownOption("temperature", "must not be negative"), at: arg.value.range) } else { o.temperature = t } }
            case "top_k":
                if let k = int() { if k < 1 { report(.unknownOption("top_k", "must be at least 1"), at: arg.value.range) } else { o.topK = k } }
            case "top_p":
                if let p = float() { if !(p > 0 && p <= 1) { report(.unknownOption("top_p", "must be in (0, 1]"), at: arg.value.range) } else { o.topP = p } }
            case "seed":
                if let s = int() { o.seed = s }
            default:
                report(.unknownOption(label.name, "is not known"), at: label.range)
            }
        }
        return o
    }

    /// The prompts of a trace, invoke or generate: a string, a list of strings, a str param,
    /// or a value computed before the block: a str, or token ids `[T]` or `[rows, T]`
    /// (`toks(...)`, a list of ints, `randint`, a `let`, `result.ids`). The expression is
    /// checked outside the block: before the first block, or after the one before.
    func promptInvoke(_ expr: Expr) -> CheckedPrompt? {
        let saved = (block, invoke)
        block = nil
        invoke = nil
        defer { (block, invoke) = saved }
        guard let v = checkExpr(expr) else { return nil }
        let range = span(expr.range)
        switch v.type {
        case .str:
            if case .str(let s) = v.constant { return CheckedPrompt(invoke: Invoke(prompts: [s], promptParam: nil, rows: 1, range: range)) }
            if case .param(let name) = v.id.flatMap({ id in instructions.first { $0.id == id }?.op }) {
                return CheckedPrompt(invoke: Invoke(prompts: nil, promptParam: name, rows: 1, range: range))
            }
            return CheckedPrompt(invoke: Invoke(prompts: nil, promptParam: nil, rows: 1, range: range), value: v, length: nil)
        case .strings(let n):
            if case .list(let items) = v.constant {
                return CheckedPrompt(invoke: Invoke(prompts: items.compactMap { if case .str(let s) = $0 { return s }; return nil }, promptParam: nil, rows: n, range: range))
            }
            if n > 0 { return CheckedPrompt(invoke: Invoke(prompts: nil, promptParam: nil, rows: n, range: range), value: v, length: nil) }
        case .tensor(let d, let s) where d.isInteger:
            if s.count == 2, s[0].value == nil {
                report(.argumentType("a prompt of token ids", expected: "[T] or [rows, T] with rows known when compiling", got: v.type), at: expr.range)
                return nil
            }
            if let rows = Invoke.promptRows(isString: false, integerDims: s.map(\.value)) {
                if let c = v.constant {
                    func ints(_ c: ConstValue) -> [Int] { if case .list(let l) = c { return l.flatMap(ints) }; return c.intValue.map { [$0] } ?? [] }
                    let vocab = signature.config.vocabSize
                    if let bad = ints(c).first(where: { $0 < 0 || $0 >= vocab }) {
                        report(.argumentValue("a token id of a prompt", expected: "in 0..<\(vocab), the model's vocabulary", got: String(bad)), at: expr.range)
                        return nil
                    }
                }
                let t = tensorValue(v)
                return CheckedPrompt(invoke: Invoke(prompts: nil, promptParam: nil, rows: rows, range: range), value: t, length: s.last)
            }
        default: break
        }
        report(.argumentType("a prompt", expected: "a string, a list of strings, a str param, `result.text` or token ids [T] or [rows, T]", got: v.type), at: expr.range)
        return nil
    }

    /// An invoke's prompt given as a value: a `prompt` instruction naming it, anchored at the
    /// invoke (the VM reads the value when it sets the block up).
    func emitPrompt(_ p: CheckedPrompt) {
        guard let v = p.value, let id = v.id else { return }
        emit(.prompt(id), type: nil, operands: [v], range: v.range, phase: .before)
    }

    /// The prompts of the invokes a prompt-less trace will hold (loops included), for T.
    func collectInvokePrompts(_ stmts: [Stmt]) -> [CheckedPrompt] {
        var out: [CheckedPrompt] = []
        for s in stmts {
            switch s.kind {
            case .invoke(let inv):
                let diagCount = diagnostics.count
                if let i = promptInvoke(inv.prompt) { out.append(i) }
                diagnostics.removeSubrange(diagCount...)   // reported again when the invoke is checked
            case .forLoop(let f): out += collectInvokePrompts(f.body.statements)
            case .ifElse(let i): out += collectInvokePrompts(i.then.statements)
            default: break
            }
        }
        return out
    }

    /// The padded prompt length: known when every prompt's length is.
    func tokensDim(_ prompts: [CheckedPrompt]) -> ShapeDim {
        var longest = 0
        for p in prompts {
            if let texts = p.invoke.prompts, let tokenizer = signature.tokenizer {
                for t in texts { longest = max(longest, tokenizer.encode(t, addSpecialTokens: true).count) }
            } else if case .known(let n)? = p.length {
                longest = max(longest, n)
            } else {
                return .symbol("T")
            }
        }
        return longest > 0 ? .known(longest) : .symbol("T")
    }

    // MARK: Bodies

    func checkBody(_ stmts: [Stmt]) {
        for stmt in stmts { checkStatement(stmt) }
    }

    /// `seed s` at the top level: the seed of the default streams of draws without one,
    /// once, before the first such draw.
    func checkSeed(_ e: Expr, _ range: SourceRange) {
        guard let v = checkExpr(e) else { return }
        guard let s = v.constant?.intValue else {
            report(.argumentType("the script's seed", expected: "a compile-time integer", got: v.type), at: e.range)
            return
        }
        if let (_, earlier) = scriptSeed {
            report(.misplaced("a second `seed`", "in one script"), at: range, secondary: [Label(earlier, "the seed, set here")])
            return
        }
        if unseededDraws > 0 {
            report(.misplaced("`seed`", "after a draw without a seed", help: "set the seed before the first `randn`, `rand` or `randint`"), at: range)
            return
        }
        scriptSeed = (s, range)
    }

    func checkStatement(_ stmt: Stmt) {
        switch stmt.kind {
        case .seed:
            report(.misplaced("`seed`", "inside a block", help: "set the script's seed at its top level, before the first draw"), at: stmt.range)
        case .param:
            report(.misplaced("`param`", "inside a block", help: "declare params at the top level of the script"), at: stmt.range)
        case .trace, .generate:
            report(.misplaced(describe(stmt), "inside another block"), at: stmt.range)
        case .invoke(let inv):
            checkInvoke(inv, stmt.range)
        case .step(let s):
            checkStep(s, stmt.range)
        case .eachStep(let e):
            guard let b = block, b.isGenerate, !insideStepBody else {
                report(.misplaced("`each step`", "outside a generate block's top level"), at: stmt.range)
                return
            }
            inStepsOfEveryShape(.all, maxTokens: b.maxTokens) { checkBody(e.body.statements) }
        case .binding(let b):
            checkBinding(b, stmt.range)
        case .assign(let a):
            checkAssignment(a, stmt.range)
        case .skip(let s):
            checkSkip(s, stmt.range)
        case .backward(let e):
            checkBackward(e, stmt.range)
        case .forLoop(let f):
            checkFor(f, stmt.range)
        case .ifElse(let i):
            checkIf(i)
        case .placeholder:
            break
        case .expression:
            break   // reported by the parser (E0108)
        }
    }

    func checkInvoke(_ inv: InvokeBlock, _ range: SourceRange) {
        guard var b = block, !b.isGenerate, !b.hasPrompt, invoke == nil else {
            report(.misplaced("`invoke`", block == nil ? "outside a trace" : "here",
                              help: "invokes go directly in a `trace` that has no prompt of its own"), at: range)
            return
        }
        guard let p = promptInvoke(inv.prompt) else { return }
        b.invokes.append(p.invoke)
        block = b
        invoke = b.invokes.count - 1
        emitPrompt(p)
        withScope(.invoke) { checkBody(inv.body.statements) }
        invoke = nil
    }

    func checkStep(_ s: StepBlock, _ range: SourceRange) {
        guard let b = block, b.isGenerate, !insideStepBody else {
            report(.misplaced("`step`", "outside a generate block's top level"), at: range)
            return
        }
        var set: StepSet?
        if case .range(let r) = s.steps.kind {
            if let lo = checkExpr(r.lower)?.constant?.intValue, let hi = checkExpr(r.upper)?.constant?.intValue {
                if lo < 0 || hi <= lo || hi > b.maxTokens {
                    report(.misplaced("`step \(lo)..<\(hi)`", "in a generate of \(b.maxTokens) steps (0..<\(b.maxTokens))"), at: s.steps.range)
                } else {
                    set = .range(lo, hi)
                }
            } else {
                report(.nonStaticLoop("step bounds"), at: s.steps.range)
            }
        } else if let n = checkExpr(s.steps)?.constant?.intValue {
            if n < 0 || n >= b.maxTokens {
                report(.misplaced("`step \(n)`", "in a generate of \(b.maxTokens) steps (0..<\(b.maxTokens))"), at: s.steps.range)
            } else {
                set = .only(n)
            }
        } else {
            report(.nonStaticLoop("a step number"), at: s.steps.range)
        }
        guard let set else { return }
        inStepsOfEveryShape(set, maxTokens: b.maxTokens) { checkBody(s.body.statements) }
    }

    /// A body that runs at the prompt pass and at later steps sees two shapes: the prompt's
    /// `T` tokens, then one new token. It is checked at each first (an index that exists at
    /// no step, or only at one, is an error there, with a note saying when), then for the
    /// plan with `T` symbolic.
    func inStepsOfEveryShape(_ set: StepSet, maxTokens: Int, _ body: () -> Void) {
        guard set.contains(0), maxTokens > 1, set.contains(1) else { return inSteps(set, body) }
        var found: [Diagnostic] = []
        for (trialSet, when) in [(StepSet.only(0), "at step 0, the prompt pass"), (StepSet.only(1), "at steps 1 and later, one new token each")] {
            for d in trialDiagnostics({ inSteps(trialSet, body) }) where d.severity == .error {
                if let i = found.firstIndex(where: { $0.code == d.code && $0.primary.range == d.primary.range }) {
                    found[i].notes.append("also " + when)
                } else {
                    found.append(d.note(when))
                }
            }
        }
        let before = diagnostics.count
        inSteps(set, body)
        let seen = diagnostics[before...].map { ($0.code, $0.primary.range) }
        diagnostics += found.filter { d in !seen.contains { $0 == (d.code, d.primary.range) } }
    }

    func inSteps(_ set: StepSet, _ body: () -> Void) {
        let saved = steps
        steps = set
        insideStepBody = true
        withScope(.plain, body)
        insideStepBody = false
        steps = saved
    }

    func checkFor(_ f: ForLoop, _ range: SourceRange) {
        var values: [ConstValue] = []
        if case .range(let r) = f.sequence.kind {
            guard let lo = checkExpr(r.lower), let hi = checkExpr(r.upper) else { return }
            guard let a = lo.constant?.intValue, let b = hi.constant?.intValue else {
                report(.nonStaticLoop("integer bounds"), at: f.sequence.range)
                return
            }
            // Counted before any is made: `0..<1_000_000_000_000` must not allocate.
            if b > a {
                let (n, overflow) = b.subtractingReportingOverflow(a)
                guard !overflow, n <= Checker.maxIterations - iterations else {
                    report(.loopTooLong(Checker.maxIterations), at: f.sequence.range)
                    return
                }
            }
            values = b > a ? (a..<b).map { .int($0) } : []
        } else {
            guard let seq = checkExpr(f.sequence) else { return }
            guard case .list(let items) = seq.constant else {
                report(.nonStaticLoop("a list"), at: f.sequence.range)
                return
            }
            values = items
        }
        iterations += values.count
        if iterations > Checker.maxIterations {
            report(.loopTooLong(Checker.maxIterations), at: f.sequence.range)
            return
        }
        for v in values where !budgetSpent {
            let type: ValueType
            switch v {
            case .int: type = .int
            case .float: type = .float
            case .str: type = .str
            case .bool: type = .bool
            case .list: type = .list([])
            }
            loopValues.append("\(f.variable.name) = \(v)")
            withScope(.loopBody) {
                define(f.variable.name, .value(constant(v, type: type, range: f.variable.range)), at: f.variable.range)
                checkBody(f.body.statements)
            }
            loopValues.removeLast()
            if diagnostics.hasErrors && diagnostics.count > 200 { return }
        }
    }

    func checkIf(_ i: IfStmt) {
        guard let cond = checkExpr(i.condition) else { return }
        if case .bool(let b) = cond.constant {
            // A static condition: only the branch taken is checked, like code that never runs.
            if b { withScope(.plain) { checkBody(i.then.statements) } }
            else if let e = i.elseClause { checkElse(e) }
            return
        }
        guard cond.type == .bool || (cond.type.shape.map { $0.allKnown?.reduce(1, *) == 1 } ?? false) else {
            report(.conditionType(cond.type), at: i.condition.range)
            return
        }
        // A runtime branch: both sides are checked and run under the condition.
        let c = materialize(cond)
        let saved = guardValue
        let notC = emit(.unary(.not, operandID(c)), type: .bool, operands: [c], range: i.condition.range)
        if let g = saved {
            let gv = ValueRef(id: g, type: .bool, constant: nil, anchor: c.anchor, range: c.range)
            guardValue = emit(.binary(.and, g, operandID(c)), type: .bool, operands: [gv, c], range: i.condition.range).id
        } else {
            guardValue = c.id
        }
        withScope(.plain) { checkBody(i.then.statements) }
        if let e = i.elseClause {
            if let g = saved {
                let gv = ValueRef(id: g, type: .bool, constant: nil, anchor: c.anchor, range: c.range)
                guardValue = emit(.binary(.and, g, operandID(notC)), type: .bool, operands: [gv, notC], range: i.condition.range).id
            } else {
                guardValue = notC.id
            }
            checkElse(e)
        }
        guardValue = saved
    }

    func checkElse(_ e: ElseClause) {
        switch e {
        case .block(let b): withScope(.plain) { checkBody(b.statements) }
        case .elseIf(let i, _): checkIf(i)
        }
    }
}
