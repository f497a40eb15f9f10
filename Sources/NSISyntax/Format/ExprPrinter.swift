/// Expressions in canonical spelling: one space around binary operators and `=` of
/// keyword arguments, none inside brackets, `, ` between items. Parentheses are printed
/// where they were written (they are in the tree), so the printed text parses back to
/// the same tree.
enum ExprPrinter {
    static func print(_ expr: Expr) -> String {
        switch expr.kind {
        case .integer(_, let text): text
        case .float(_, let text): canonicalFloat(text)
        case .string(let value): StringLiteral.quote(value)
        case .boolean(let value): value ? "true" : "false"
        case .name(let name): name
        case .model: "model"
        case .result: "result"
        case .ellipsis: "..."
        case .missing: "<missing>"
        case .list(let items): "[" + items.map(print).joined(separator: ", ") + "]"
        case .paren(let inner): "(" + print(inner) + ")"
        case .unary(let unary): (unary.op == .not ? "not " : "-") + print(unary.operand)
        case .binary(let binary): print(binary.lhs) + " " + binary.op.spelling + " " + print(binary.rhs)
        case .range(let range): print(range.lower) + "..<" + print(range.upper)
        case .attribute(let attribute): print(attribute.base) + "." + attribute.name.name
        case .call(let call): print(call.callee) + "(" + arguments(call.arguments) + ")"
        case .subscript(let sub): print(sub.base) + "[" + sub.indices.map(print).joined(separator: ", ") + "]"
        }
    }

    static func arguments(_ arguments: [CallArgument]) -> String {
        arguments.map { argument in
            (argument.label.map { $0.name + " = " } ?? "") + print(argument.value)
        }.joined(separator: ", ")
    }

    static func print(_ index: SubscriptIndex) -> String {
        switch index {
        case .expr(let expr): print(expr)
        case .ellipsis: "..."
        case .slice(let slice):
            (slice.lower.map(print) ?? "") + ":" + (slice.upper.map(print) ?? "") + (slice.step.map { ":" + print($0) } ?? "")
        }
    }

    static func print(_ type: TypeExpr) -> String {
        type.name.name + (type.dimensions.map { "[" + $0.map(print).joined(separator: ", ") + "]" } ?? "")
    }

    /// `2.` becomes `2.0` and `.5` becomes `0.5`: a float never starts or ends with a
    /// dot, so it cannot run into a neighbouring `..<` or attribute dot.
    static func canonicalFloat(_ text: String) -> String {
        var text = text
        if text.hasPrefix(".") { text = "0" + text }
        if let dot = text.firstIndex(of: ".") {
            let after = text.index(after: dot)
            if after == text.endIndex || !text[after].isNumber { text.insert("0", at: after) }
        }
        return text
    }
}
