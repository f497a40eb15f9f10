import NSISource

extension Parser {
    /// Statements up to a `}` (left for the caller) or the end of the file. At the top
    /// level a stray `}` is reported and skipped.
    mutating func parseStatements(topLevel: Bool) -> [Stmt] {
        let outerHasError = statementHasError
        defer { statementHasError = outerHasError }
        var statements: [Stmt] = []
        while true {
            switch kind {
            case .newline, .semicolon:
                advance()
                continue
            case .endOfFile:
                return statements
            case .rightBrace:
                guard topLevel else { return statements }
                report(.unexpectedClosingDelimiter("}"), at: current.range, kind: .always)
                advance()
                continue
            default:
                break
            }
            statementHasError = false
            nestingReported = false
            let start = index
            if let statement = parseStatement() { statements.append(statement) }
            finishStatement()
            if index == start { advance() }
        }
    }

    /// After a statement: a newline, `;`, `}` or the end must follow, or a statement that
    /// starts with a keyword. Anything else is reported and skipped.
    mutating func finishStatement() {
        switch kind {
        case .newline, .semicolon, .rightBrace, .endOfFile:
            return
        case .keyword(let keyword) where keyword.startsStatement:
            return
        case .rightParen, .rightBracket:
            report(.unexpectedClosingDelimiter(current.kind.spelling!), at: current.range)
        case .invalid:
            statementHasError = true
        default:
            report(.missingSeparator, at: current.range)
        }
        skipToStatementEnd()
    }

    mutating func parseStatement() -> Stmt? {
        let token = current
        switch token.kind {
        case .keyword(.param): return parseParam()
        case .keyword(.let): return parseBinding(.let)
        case .keyword(.save): return parseBinding(.save)
        case .keyword(.skip): return parseSkip()
        case .keyword(.backward):
            let keyword = advance()
            let value = parseExpr()
            return Stmt(.backward(value), span(keyword.range, value.range))
        case .keyword(.trace): return parseTrace()
        case .keyword(.generate): return parseGenerate()
        case .keyword(.invoke): return parseInvoke()
        case .keyword(.step): return parseStep()
        case .keyword(.each): return parseEachStep()
        case .keyword(.for): return parseFor()
        case .keyword(.if): return parseIf().map { Stmt(.ifElse($0.statement), $0.range) }
        case .keyword(.else):
            parseStrayElse()
            return nil
        case .rightParen, .rightBracket:
            report(.unexpectedClosingDelimiter(token.kind.spelling!), at: token.range)
            advance()
            return nil
        case .invalid:
            statementHasError = true
            return nil
        case .identifier where text(token) == "seed" && (peekKind(1) == .integer || peekKind(1) == .identifier):
            let word = advance()
            if newlineBeforeCurrent {
                report(.expressionStatement, at: word.range)
                return Stmt(.expression(Expr(.name("seed"), word.range)), word.range)
            }
            let value = parseExpr()
            return Stmt(.seed(value), span(word.range, value.range))
        default:
            if token.kind.canStartExpression { return parseExpressionStatement() }
            report(.expectedStatement(found: describe(token)), at: token.range)
            return nil
        }
    }

    /// `target = value` (or `+=` ...), or `...`; any other expression is reported.
    private mutating func parseExpressionStatement() -> Stmt {
        let target = parseExpr()
        if let op = AssignOperator(token: kind) {
            let operatorToken = advance()
            if !target.isAssignable {
                report(.invalidAssignmentTarget, at: target.range, kind: .rule)
            }
            let value = parseExpr()
            let assignment = Assignment(target: target, op: op, operatorRange: operatorToken.range, value: value)
            return Stmt(.assign(assignment), span(target.range, value.range))
        }
        if case .ellipsis = target.kind { return Stmt(.placeholder, target.range) }
        if kind == .invalid {
            // `model..layers`: the lexer's error explains it; the statement is skipped.
            statementHasError = true
        }
        report(.expressionStatement, at: target.range)
        return Stmt(.expression(target), target.range)
    }

    /// `let name = value`, `save name[i, j] = value`.
    private mutating func parseBinding(_ bindingKind: BindingKind) -> Stmt {
        let keyword = advance()
        let name = parseName()
        var indices: [Expr] = []
        if let open = eat(.leftBracket) {
            indices = inBrackets { parser in
                let items = parser.parseList(closer: .rightBracket) { $0.parseExpr() }
                parser.expectClosing(.rightBracket, opener: open)
                return items
            }
            if indices.isEmpty {
                report(.emptyBrackets(what: "index list"), at: SourceRange(start: open.range.start, end: previousEnd), kind: .rule)
            }
        }
        expect(.assign)
        let value = parseExpr()
        let binding = Binding(kind: bindingKind, name: name, indices: indices, value: value)
        return Stmt(.binding(binding), span(keyword.range, value.range))
    }

    /// `skip model.layers[4]`
    private mutating func parseSkip() -> Stmt {
        let keyword = advance()
        let module = parseExpr()
        if !module.isModulePath {
            report(.invalidSkipTarget, at: module.range, kind: .rule)
        }
        return Stmt(.skip(SkipStmt(module: module)), span(keyword.range, module.range))
    }

    /// `param name: type = default`
    private mutating func parseParam() -> Stmt {
        let keyword = advance()
        let name = parseName()
        var type = TypeExpr(name: Identifier(name: "", range: .empty(at: previousEnd)), typeName: nil, dimensions: nil,
                            range: .empty(at: previousEnd))
        if expect(.colon) || kind == .identifier {
            type = parseType()
        }
        var defaultValue: Expr?
        if eat(.assign) != nil {
            defaultValue = parseExpr()
        }
        let end = defaultValue?.range ?? type.range
        return Stmt(.param(ParamDecl(name: name, type: type, defaultValue: defaultValue)), span(keyword.range, end))
    }

    /// `else` where no `if` block just ended: reported, and what follows it is parsed
    /// (for its own errors) and dropped.
    private mutating func parseStrayElse() {
        let keyword = advance()
        report(.elseWithoutIf, at: keyword.range)
        if kind == .keyword(.if) {
            _ = parseIf()
        } else if kind == .leftBrace {
            _ = parseBlock()
        }
    }

    /// A name: an identifier. A keyword in its place is reported and taken as the name,
    /// so that `let step = 1` gives one error, not several.
    mutating func parseName() -> Identifier {
        if kind == .identifier {
            let token = advance()
            return Identifier(name: text(token), range: token.range)
        }
        let token = current
        if token.kind == .invalid {
            statementHasError = true
        } else {
            var isKeyword = false
            if case .keyword = token.kind { isKeyword = true }
            report(.expectedName(found: describe(token), isKeyword: isKeyword), at: insertionRange(token))
            if isKeyword {
                advance()
                return Identifier(name: text(token), range: token.range)
            }
        }
        return Identifier(name: "", range: .empty(at: previousEnd))
    }
}

extension AssignOperator {
    init?(token: TokenKind) {
        switch token {
        case .assign: self = .assign
        case .plusAssign: self = .add
        case .minusAssign: self = .subtract
        case .starAssign: self = .multiply
        case .slashAssign: self = .divide
        default: return nil
        }
    }
}

extension TokenKind {
    var canStartExpression: Bool {
        switch self {
        case .integer, .float, .string, .identifier, .leftParen, .leftBracket, .minus, .ellipsis,
             .keyword(.true), .keyword(.false), .keyword(.model), .keyword(.result), .keyword(.not):
            true
        default:
            false
        }
    }
}
