import NSISource

extension Parser {
    /// `trace prompt { }` or `trace { }`.
    mutating func parseTrace() -> Stmt {
        let keyword = advance()
        let prompt: Expr? = atBlockStart ? nil : parseExpr()
        let body = parseBlockExpected()
        return Stmt(.trace(TraceBlock(prompt: prompt, body: body)), span(keyword.range, body.range))
    }

    /// `generate prompt (name = value, ...) { }`. A `(` right after the prompt opens the
    /// options, so a call in the prompt needs parentheses: `generate (f(x)) { }`.
    mutating func parseGenerate() -> Stmt {
        let keyword = advance()
        restrictCalls = true
        let prompt = parseExpr()
        restrictCalls = false
        var options: [CallArgument] = []
        if let open = eat(.leftParen) {
            options = inBrackets { parser in
                let items = parser.parseList(closer: .rightParen) { $0.parseArgument() }
                parser.expectClosing(.rightParen, opener: open)
                return items
            }
            checkOptions(options)
        }
        let body = parseBlockExpected()
        let block = GenerateBlock(prompt: prompt, options: options, body: body)
        return Stmt(.generate(block), span(keyword.range, body.range))
    }

    mutating func parseInvoke() -> Stmt {
        let keyword = advance()
        let prompt = parseExpr()
        let body = parseBlockExpected()
        return Stmt(.invoke(InvokeBlock(prompt: prompt, body: body)), span(keyword.range, body.range))
    }

    /// `step 0 { }`, `step 1..<4 { }`.
    mutating func parseStep() -> Stmt {
        let keyword = advance()
        let steps = parseExpr(allowRange: true)
        let body = parseBlockExpected()
        return Stmt(.step(StepBlock(steps: steps, body: body)), span(keyword.range, body.range))
    }

    /// `each step { }`.
    mutating func parseEachStep() -> Stmt {
        let keyword = advance()
        expect(.keyword(.step))
        let body = parseBlockExpected()
        return Stmt(.eachStep(EachStepBlock(body: body)), span(keyword.range, body.range))
    }

    /// `for name in 0..<n { }`, `for name in [3, 8] { }`.
    mutating func parseFor() -> Stmt {
        let keyword = advance()
        let variable = parseName()
        expect(.keyword(.in))
        let sequence = parseExpr(allowRange: true)
        let body = parseBlockExpected()
        let loop = ForLoop(variable: variable, sequence: sequence, body: body)
        return Stmt(.forLoop(loop), span(keyword.range, body.range))
    }

    /// `if c { } else if d { } else { }`; `else` may start the line after the `}`.
    /// Nil only when an `else if` chain is too long to nest.
    mutating func parseIf() -> (statement: IfStmt, range: SourceRange)? {
        let keyword = current
        guard enterNesting(at: keyword.range) else {
            skipToStatementEnd()
            return nil
        }
        defer { leaveNesting() }
        advance()
        let condition = parseExpr()
        let then = parseBlockExpected(help: "to compare, write `==`")
        var statement = IfStmt(condition: condition, then: then, elseClause: nil)
        var range = span(keyword.range, then.range)
        var next = index
        while kinds[next] == .newline { next += 1 }
        if kinds[next] == .keyword(.else) {
            index = next
            let elseKeyword = advance()
            if kind == .keyword(.if) {
                if let nested = parseIf() {
                    statement.elseClause = .elseIf(nested.statement, range: span(elseKeyword.range, nested.range))
                    range = span(range, nested.range)
                }
            } else {
                let block = parseBlockExpected()
                statement.elseClause = .block(block)
                range = span(range, block.range)
            }
        }
        return (statement, range)
    }

    /// Whether a `{` comes next, possibly after newlines (a block may open on the next line).
    var atBlockStart: Bool {
        var next = index
        while kinds[next] == .newline { next += 1 }
        return kinds[next] == .leftBrace
    }

    /// The block of a header. When its `{` is missing, the error is reported and the
    /// parser looks for evidence of where the body is:
    /// - a `{` later on the line: the junk before it is skipped (`if a == 1) {`);
    /// - statements and then a `}` on the line, or a next line indented deeper than the
    ///   header: the `{` is taken as present before them (`if c ... } else { ... }`).
    /// Otherwise the block is missing and the header's statement ends there.
    mutating func parseBlockExpected(help: String? = nil) -> Block {
        if atBlockStart {
            while kinds[index] == .newline { advance() }
            return parseBlock()
        }
        let headerLine = file.line(of: previousEnd)
        reportExpected("`{`", help: kind == .assign ? help : nil)
        let bodyStart = currentIndex
        var next = bodyStart
        var depth = 0
        scan: while true {
            switch kinds[next] {
            case .newline, .endOfFile, .semicolon:
                break scan
            case .rightBrace:
                if depth == 0, next > bodyStart { return parseBlock(openedAt: .empty(at: previousEnd)) }
                break scan
            case .leftBrace where depth == 0:
                index = next
                return parseBlock()
            case .leftParen, .leftBracket:
                depth += 1
            case .rightParen, .rightBracket:
                depth = max(0, depth - 1)
            default:
                break
            }
            next += 1
        }
        if kinds[bodyStart] == .newline, nextLineIsIndented(beyond: headerLine) {
            return parseBlock(openedAt: .empty(at: previousEnd))
        }
        return Block(statements: [], openBrace: .empty(at: previousEnd), closeBrace: nil)
    }

    /// Whether the next line with a token starts deeper than `line` and not with `}`.
    private func nextLineIsIndented(beyond line: Int) -> Bool {
        var next = index
        while kinds[next] == .newline { next += 1 }
        guard kinds[next] != .endOfFile, kinds[next] != .rightBrace else { return false }
        return file.location(of: tokens[next].range.start).column > indentation(of: line)
    }

    /// The column of the first character of `line` that is not a space or a tab.
    private func indentation(of line: Int) -> Int {
        let content = file.lineContent(line)
        var offset = content.lowerBound
        while offset < content.upperBound, file.bytes[offset] == UInt8(ascii: " ") || file.bytes[offset] == UInt8(ascii: "\t") {
            offset += 1
        }
        return file.location(of: offset).column
    }

    /// `{ statements }`, the `{` being current; or, with `openedAt`, a body whose
    /// missing `{` (already reported) is taken to be there.
    mutating func parseBlock(openedAt inserted: SourceRange? = nil) -> Block {
        let open = inserted.map { Token(kind: .leftBrace, range: $0) } ?? advance()
        guard enterNesting(at: open.range) else {
            skipBalancedBraces()
            return Block(statements: [], openBrace: open.range, closeBrace: .empty(at: previousEnd))
        }
        defer { leaveNesting() }
        newlineContexts.append(false)
        let statements = parseStatements(topLevel: false)
        newlineContexts.removeLast()
        if let close = eat(.rightBrace) {
            return Block(statements: statements, openBrace: open.range, closeBrace: close.range)
        }
        report(.unclosedDelimiter(open: "{", close: "}"), at: .empty(at: previousEnd),
               secondary: [Label(open.range, SyntaxLabel.unclosed("{"))], kind: .always)
        return Block(statements: statements, openBrace: open.range, closeBrace: nil)
    }
}
