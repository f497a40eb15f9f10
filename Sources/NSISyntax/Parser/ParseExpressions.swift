import NSISource

/// Expressions by precedence climbing, loosest first:
/// `..<` (headers only) < `or` < `and` < `not` < comparisons < `+ -` < `* / % @`
/// < unary `-` < `**` (right-associative) < calls, subscripts, attributes.
extension Parser {
    mutating func parseExpr(allowRange: Bool = false) -> Expr {
        let lower = parseBinary(.or)
        guard kind == .rangeUpTo else { return lower }
        let op = advance()
        let upper = parseBinary(.or)
        let range = Expr(.range(RangeExpr(lower: lower, upper: upper)), span(span(lower.range, op.range), upper.range))
        if !allowRange {
            report(.rangeOutsideHeader, at: range.range, kind: .rule)
        }
        return range
    }

    /// Operators binding at least as tightly as `minimum`. A chain of operators counts
    /// toward the nesting limit as it deepens the tree (`a + b + c` is `(a + b) + c`).
    mutating func parseBinary(_ minimum: Precedence) -> Expr {
        guard enterNesting(at: current.range) else { return skipTooDeep() }
        defer { leaveNesting() }
        var lhs = parsePrefix()
        var chain = 0
        while let op = BinaryOperator(token: kind), op.precedence >= minimum {
            chain += 1
            guard nesting + chain <= Parser.maxNesting else {
                reportTooDeep(at: current.range)
                return lhs
            }
            let operatorToken = advance()
            if op.isComparison, case .binary(let inner) = lhs.kind, inner.op.isComparison {
                report(.chainedComparison, at: operatorToken.range, kind: .rule)
            }
            let rhs = switch op {
            case .power: parseBinary(.power)   // right-associative; `a ** -b` allowed
            default: parseBinary(Precedence(rawValue: op.precedence.rawValue + 1)!)
            }
            let binary = BinaryExpr(op: op, operatorRange: operatorToken.range, lhs: lhs, rhs: rhs)
            lhs = Expr(.binary(binary), span(span(lhs.range, operatorToken.range), rhs.range))
        }
        return lhs
    }

    /// `-x` (operand: `**` and tighter) and `not x` (operand: comparisons and tighter).
    private mutating func parsePrefix() -> Expr {
        let op: UnaryOperator
        let operandLevel: Precedence
        switch kind {
        case .minus: (op, operandLevel) = (.negate, .power)
        case .keyword(.not): (op, operandLevel) = (.not, .comparison)
        default: return parsePostfix()
        }
        let operatorToken = advance()
        let operand = parseBinary(operandLevel)
        let unary = UnaryExpr(op: op, operatorRange: operatorToken.range, operand: operand)
        return Expr(.unary(unary), span(operatorToken.range, operand.range))
    }

    /// A primary followed by `.name`, `(arguments)` and `[indices]`.
    private mutating func parsePostfix() -> Expr {
        var expr = parsePrimary()
        var chain = 0
        while kind == .dot || kind == .leftBracket || (kind == .leftParen && !restrictCalls) {
            chain += 1
            guard nesting + chain <= Parser.maxNesting else {
                reportTooDeep(at: current.range)
                return expr
            }
            let open = advance()
            switch open.kind {
            case .dot:
                let name = parseAttributeName()
                let attribute = AttributeExpr(base: expr, name: name)
                expr = Expr(.attribute(attribute), span(span(expr.range, open.range), name.range))
            case .leftParen:
                let arguments = inBrackets { parser in
                    let items = parser.parseList(closer: .rightParen) { $0.parseArgument() }
                    parser.expectClosing(.rightParen, opener: open)
                    return items
                }
                checkCallArguments(arguments)
                expr = Expr(.call(CallExpr(callee: expr, arguments: arguments)), span(expr.range, .empty(at: previousEnd)))
            default:
                let indices = inBrackets { parser in
                    let items = parser.parseList(closer: .rightBracket) { $0.parseIndex() }
                    parser.expectClosing(.rightBracket, opener: open)
                    return items
                }
                if indices.isEmpty {
                    report(.emptyBrackets(what: "subscript"), at: SourceRange(start: open.range.start, end: previousEnd), kind: .rule)
                }
                expr = Expr(.subscript(SubscriptExpr(base: expr, indices: indices)), span(expr.range, .empty(at: previousEnd)))
            }
        }
        return expr
    }

    /// After a dot any word names an attribute, keywords included (`model.model`).
    private mutating func parseAttributeName() -> Identifier {
        switch kind {
        case .identifier, .keyword:
            let token = advance()
            return Identifier(name: text(token), range: token.range)
        default:
            return parseName()
        }
    }

    private mutating func parsePrimary() -> Expr {
        let token = current
        switch token.kind {
        case .integer:
            advance()
            let text = text(token)
            return Expr(.integer(NumberValue.integer(text) ?? 0, text: text), token.range)
        case .float:
            advance()
            let text = text(token)
            return Expr(.float(NumberValue.float(text) ?? 0, text: text), token.range)
        case .string:
            advance()
            return Expr(.string(token.stringValue ?? ""), token.range)
        case .keyword(.true), .keyword(.false):
            advance()
            return Expr(.boolean(token.kind == .keyword(.true)), token.range)
        case .keyword(.model):
            advance()
            return Expr(.model, token.range)
        case .keyword(.result):
            advance()
            return Expr(.result, token.range)
        case .identifier:
            advance()
            return Expr(.name(text(token)), token.range)
        case .ellipsis:
            advance()
            return Expr(.ellipsis, token.range)
        case .leftParen:
            advance()
            let inner = inBrackets { parser in
                let inner = parser.parseExpr()
                parser.expectClosing(.rightParen, opener: token)
                return inner
            }
            return Expr(.paren(inner), SourceRange(start: token.range.start, end: max(previousEnd, inner.range.end)))
        case .leftBracket:
            advance()
            let items = inBrackets { parser in
                let items = parser.parseList(closer: .rightBracket) { $0.parseExpr() }
                parser.expectClosing(.rightBracket, opener: token)
                return items
            }
            return Expr(.list(items), SourceRange(start: token.range.start, end: previousEnd))
        case .invalid:
            statementHasError = true
            return Expr(.missing, .empty(at: token.range.start))
        default:
            let range = insertionRange(token)
            report(.expectedExpression(found: describe(token)), at: range)
            return Expr(.missing, .empty(at: range.start))
        }
    }

    /// Past the nesting limit: consume one token so the parser moves on.
    private mutating func skipTooDeep() -> Expr {
        let token = current
        if token.kind != .endOfFile { advance() }
        return Expr(.missing, .empty(at: token.range.start))
    }
}

extension BinaryOperator {
    init?(token: TokenKind) {
        switch token {
        case .keyword(.or): self = .or
        case .keyword(.and): self = .and
        case .equal: self = .equal
        case .notEqual: self = .notEqual
        case .less: self = .less
        case .lessEqual: self = .lessEqual
        case .greater: self = .greater
        case .greaterEqual: self = .greaterEqual
        case .plus: self = .add
        case .minus: self = .subtract
        case .star: self = .multiply
        case .slash: self = .divide
        case .percent: self = .modulo
        case .at: self = .matmul
        case .starStar: self = .power
        default: return nil
        }
    }
}
