import NSISource
import NSISyntax
import Testing

@Suite struct ParserTests {
    /// The tree of `let x = <expression>` as an S-expression, to check precedence.
    func tree(_ expression: String) -> String {
        let result = Parser.parse(SourceFile(path: "t.nsi", text: "let x = \(expression)"))
        #expect(result.diagnostics.isEmpty, "\(expression): \(result.diagnostics.map(\.message))")
        guard case .binding(let binding) = result.script.statements.first?.kind else { return "?" }
        return sexpr(binding.value)
    }

    func sexpr(_ expr: Expr) -> String {
        switch expr.kind {
        case .name(let name): name
        case .integer(let value, _): "\(value)"
        case .paren(let inner): sexpr(inner)
        case .unary(let unary): "(\(unary.op.spelling) \(sexpr(unary.operand)))"
        case .binary(let binary): "(\(binary.op.spelling) \(sexpr(binary.lhs)) \(sexpr(binary.rhs)))"
        case .attribute(let attribute): "\(sexpr(attribute.base)).\(attribute.name.name)"
        case .call(let call): "\(sexpr(call.callee))(\(call.arguments.map { sexpr($0.value) }.joined(separator: " ")))"
        case .subscript(let sub): "\(sexpr(sub.base))[\(sub.indices.count)]"
        case .model: "model"
        default: "<\(expr.kind)>"
        }
    }

    @Test(arguments: [
        ("a + b * c", "(+ a (* b c))"),
        ("a * b + c", "(+ (* a b) c)"),
        ("a - b - c", "(- (- a b) c)"),
        ("a ** b ** c", "(** a (** b c))"),
        ("-a ** b", "(- (** a b))"),
        ("a ** -b", "(** a (- b))"),
        ("-a * b", "(* (- a) b)"),
        ("a @ b % c / d", "(/ (% (@ a b) c) d)"),
        ("a or b and c", "(or a (and b c))"),
        ("not a == b", "(not (== a b))"),
        ("not a and b", "(and (not a) b)"),
        ("a < b + 1 or c", "(or (< a (+ b 1)) c)"),
        ("-x.y(1)[0]", "(- x.y(1)[1])"),
        ("(a + b) * c", "(* (+ a b) c)"),
        ("model.layers", "model.layers"),
    ])
    func precedenceIsPythons(_ pair: (String, String)) {
        #expect(tree(pair.0) == pair.1)
    }

    @Test func rangesCoverTheirText() {
        let file = SourceFile(path: "t.nsi", text: "trace p {\n    save s = model.layers[8].output[:, -1]\n}\n")
        let result = Parser.parse(file)
        guard case .trace(let trace) = result.script.statements[0].kind,
              case .binding(let binding) = trace.body.statements[0].kind else {
            Issue.record("unexpected tree")
            return
        }
        #expect(file.text(in: result.script.statements[0].range) == "trace p {\n    save s = model.layers[8].output[:, -1]\n}")
        #expect(file.text(in: trace.body.statements[0].range) == "save s = model.layers[8].output[:, -1]")
        #expect(file.text(in: binding.value.range) == "model.layers[8].output[:, -1]")
        #expect(file.text(in: binding.name.range) == "s")
    }

    @Test func generateSeparatesPromptAndOptions() {
        let result = Parser.parse(SourceFile(path: "t.nsi", text: "generate p (max_tokens = 3, seed = 7) {}"))
        #expect(result.diagnostics.isEmpty)
        guard case .generate(let generate) = result.script.statements[0].kind else {
            Issue.record("not a generate")
            return
        }
        #expect(generate.prompt.kind == .name("p"))
        #expect(generate.options.compactMap(\.label?.name) == ["max_tokens", "seed"])
    }

    /// `seed` starts a statement only when an integer or a name follows it on its line;
    /// elsewhere it is a name (a call argument, a `let`, an assignment target).
    @Test func seedIsAStatementOnlyBeforeAValue() {
        let result = Parser.parse(SourceFile(path: "t.nsi", text: "seed 42\nseed s\nlet seed = 3\nlet y = randn(2, seed = seed)\nseed = 4\n"))
        let kinds = result.script.statements.map { stmt -> String in
            switch stmt.kind {
            case .seed(let e): return "seed \(e.kind)"
            case .binding(let b): return "let \(b.name.name)"
            case .assign: return "assign"
            default: return "other"
            }
        }
        #expect(kinds == ["seed \(Expr.Kind.integer(42, text: "42"))", "seed \(Expr.Kind.name("s"))", "let seed", "let y", "assign"])
        #expect(result.diagnostics.isEmpty)
    }

    @Test func newlinesInsideBracketsDoNotEndStatements() {
        let result = Parser.parse(SourceFile(path: "t.nsi", text: "let x = f(1,\n  2)\nlet y = [\n1]\n"))
        #expect(result.diagnostics.isEmpty)
        #expect(result.script.statements.count == 2)
    }

    @Test func keywordStatementsMayShareALine() {
        let result = Parser.parse(SourceFile(path: "t.nsi", text: "let c[l] = ...      save lens[l] = ..."))
        #expect(result.diagnostics.isEmpty)
        #expect(result.script.statements.count == 2)
    }

    @Test func elseMayStartTheNextLine() {
        let result = Parser.parse(SourceFile(path: "t.nsi", text: "if a {\n}\nelse {\n}\n"))
        #expect(result.diagnostics.isEmpty)
        guard case .ifElse(let statement) = result.script.statements.first?.kind else {
            Issue.record("not an if statement: \(result.script.statements)")
            return
        }
        #expect(statement.elseClause != nil)
    }

    @Test func typesKnowTheirNames() {
        let result = Parser.parse(SourceFile(path: "t.nsi", text: "param s: f32[B, model.hidden_size]"))
        guard case .param(let param) = result.script.statements.first?.kind else {
            Issue.record("not a param: \(result.script.statements)")
            return
        }
        #expect(param.type.typeName == .f32)
        #expect(param.type.dimensions?.count == 2)
        #expect(param.defaultValue == nil)
    }

    /// Walking the tree through `blocks`, `expressions` and `children` reaches every
    /// name of a script.
    @Test func childrenReachEveryNode() {
        let result = Parser.parse(WellFormedScriptTests.load("wellformed/every_construct.nsi"))
        var names = Set<String>()
        var expressions: [Expr] = []
        var statements = result.script.statements
        while let statement = statements.popLast() {
            expressions += statement.expressions
            statements += statement.blocks.flatMap(\.statements)
        }
        while let expr = expressions.popLast() {
            if case .name(let name) = expr.kind { names.insert(name) }
            expressions += expr.children
        }
        #expect(names.isSuperset(of: ["layer", "alpha", "steer", "h", "c", "greedy", "clean", "prompts", "B", "T"]))
    }

    /// A long `else if` chain nests: past the limit it is one error, and the next
    /// statement parses.
    @Test func longElseIfChainsAreBounded() {
        let chain = "if a {}" + String(repeating: " else if a {}", count: 400)
        let result = Parser.parse(SourceFile(path: "t.nsi", text: "trace p {\n    \(chain)\n    let x = 1\n}\n"))
        #expect(result.diagnostics.map(\.code.rawValue) == ["E0107"])
        guard case .trace(let trace) = result.script.statements.first?.kind else {
            Issue.record("not a trace: \(result.script.statements)")
            return
        }
        #expect(trace.body.statements.count == 2)
    }

    /// Deep input is rejected by the limit, not by the stack.
    @Test func deepNestingIsBounded() {
        for opener in ["(", "[", "-", "not ", "a ** ", "f(", "x."] {
            let text = "trace p { let x = " + String(repeating: opener, count: 50_000) + "1 }"
            let result = Parser.parse(SourceFile(path: "t.nsi", text: text))
            #expect(result.diagnostics.contains { $0.code.rawValue == "E0107" }, "\(opener)")
        }
        for opener in ["{ if a ", "{ for i in x ", "{ trace "] {
            let text = "trace p " + String(repeating: opener, count: 50_000) + "{ let x = 1 }"
            let result = Parser.parse(SourceFile(path: "t.nsi", text: text))
            #expect(result.diagnostics.contains { $0.code.rawValue == "E0107" }, "\(opener)")
        }
    }
}
