import NSISource

/// The AST as indented text, one node per line, for `nsi parse` and for tests.
///
///     Script @1:1-3:1
///       Let h @2:5-2:35
///         value: Attribute .output @2:13-2:35
///
/// Ranges print as `@line:col-line:col` (end exclusive). Without ranges, two dumps are
/// equal exactly when the trees are equal apart from where they were written, which is
/// how the formatter's tests check that formatting keeps the meaning.
public enum ASTDump {
    public static func render(_ script: Script, in file: SourceFile, includeRanges: Bool = true) -> String {
        var out = ""
        node(script).render(in: file, includeRanges: includeRanges, into: &out)
        return out
    }

    static func node(_ script: Script) -> DumpNode {
        DumpNode("Script", script.range, script.statements.map { (nil, node($0)) })
    }

    static func node(_ stmt: Stmt) -> DumpNode {
        switch stmt.kind {
        case .param(let param):
            var children: [(String?, DumpNode)] = [("type", node(param.type))]
            if let value = param.defaultValue { children.append(("default", node(value))) }
            return DumpNode("Param \(param.name.name)", stmt.range, children)
        case .trace(let trace):
            let prompt: [(String?, DumpNode)] = trace.prompt.map { [("prompt", node($0))] } ?? []
            return DumpNode("Trace", stmt.range, prompt + body(trace.body))
        case .generate(let generate):
            let options = generate.options.map { (Optional("option"), node($0)) }
            return DumpNode("Generate", stmt.range, [("prompt", node(generate.prompt))] + options + body(generate.body))
        case .invoke(let invoke):
            return DumpNode("Invoke", stmt.range, [("prompt", node(invoke.prompt))] + body(invoke.body))
        case .step(let step):
            return DumpNode("Step", stmt.range, [("steps", node(step.steps))] + body(step.body))
        case .eachStep(let each):
            return DumpNode("EachStep", stmt.range, body(each.body))
        case .binding(let binding):
            let head = (binding.kind == .let ? "Let " : "Save ") + binding.name.name
            let indices = binding.indices.map { (Optional("index"), node($0)) }
            return DumpNode(head, stmt.range, indices + [("value", node(binding.value))])
        case .assign(let assign):
            return DumpNode("Assign \(assign.op.spelling)", stmt.range, [("target", node(assign.target)), ("value", node(assign.value))])
        case .skip(let skip):
            return DumpNode("Skip", stmt.range, [("module", node(skip.module))])
        case .backward(let value):
            return DumpNode("Backward", stmt.range, [("value", node(value))])
        case .seed(let value):
            return DumpNode("Seed", stmt.range, [("value", node(value))])
        case .forLoop(let loop):
            return DumpNode("For \(loop.variable.name)", stmt.range, [("in", node(loop.sequence))] + body(loop.body))
        case .ifElse(let statement):
            return node(statement, range: stmt.range)
        case .placeholder:
            return DumpNode("Placeholder", stmt.range)
        case .expression(let expr):
            return DumpNode("ExpressionStatement", stmt.range, [(nil, node(expr))])
        }
    }

    static func node(_ statement: IfStmt, range: SourceRange) -> DumpNode {
        var children: [(String?, DumpNode)] = [
            ("condition", node(statement.condition)),
            ("then", DumpNode("Block", statement.then.range, body(statement.then))),
        ]
        switch statement.elseClause {
        case .block(let block): children.append(("else", DumpNode("Block", block.range, body(block))))
        case .elseIf(let nested, let range): children.append(("else", node(nested, range: range)))
        case nil: break
        }
        return DumpNode("If", range, children)
    }

    static func body(_ block: Block) -> [(String?, DumpNode)] {
        block.statements.map { (nil, node($0)) }
    }

    static func node(_ type: TypeExpr) -> DumpNode {
        let dimensions = (type.dimensions ?? []).map { (Optional("dim"), node($0)) }
        let head = "Type \(type.name.name)" + (type.dimensions == nil ? "" : "[]")
        return DumpNode(head, type.range, dimensions)
    }

    static func node(_ argument: CallArgument) -> DumpNode {
        DumpNode("Argument" + (argument.label.map { " \($0.name)" } ?? ""), argument.range, [(nil, node(argument.value))])
    }

    static func node(_ expr: Expr) -> DumpNode {
        let r = expr.range
        switch expr.kind {
        case .integer(let value, _): return DumpNode("Integer \(value)", r)
        case .float(let value, _): return DumpNode("Float \(value)", r)
        case .string(let value): return DumpNode("String \(StringLiteral.quote(value))", r)
        case .boolean(let value): return DumpNode("Bool \(value)", r)
        case .name(let name): return DumpNode("Name \(name)", r)
        case .model: return DumpNode("Model", r)
        case .result: return DumpNode("Result", r)
        case .ellipsis: return DumpNode("Ellipsis", r)
        case .missing: return DumpNode("Missing", r)
        case .list(let items): return DumpNode("List", r, items.map { (nil, node($0)) })
        case .paren(let inner): return DumpNode("Paren", r, [(nil, node(inner))])
        case .unary(let unary): return DumpNode("Unary \(unary.op.spelling)", r, [(nil, node(unary.operand))])
        case .binary(let binary):
            return DumpNode("Binary \(binary.op.spelling)", r, [(nil, node(binary.lhs)), (nil, node(binary.rhs))])
        case .range(let range): return DumpNode("Range", r, [("lower", node(range.lower)), ("upper", node(range.upper))])
        case .attribute(let attribute): return DumpNode("Attribute .\(attribute.name.name)", r, [(nil, node(attribute.base))])
        case .call(let call):
            return DumpNode("Call", r, [("callee", node(call.callee))] + call.arguments.map { (nil, node($0)) })
        case .subscript(let sub):
            return DumpNode("Subscript", r, [("base", node(sub.base))] + sub.indices.map { (nil, node($0)) })
        }
    }

    static func node(_ index: SubscriptIndex) -> DumpNode {
        switch index {
        case .expr(let expr): return node(expr)
        case .ellipsis(let range): return DumpNode("Ellipsis", range)
        case .slice(let slice):
            var children: [(String?, DumpNode)] = []
            if let lower = slice.lower { children.append(("lower", node(lower))) }
            if let upper = slice.upper { children.append(("upper", node(upper))) }
            if let step = slice.step { children.append(("step", node(step))) }
            return DumpNode("Slice", slice.range, children)
        }
    }
}
