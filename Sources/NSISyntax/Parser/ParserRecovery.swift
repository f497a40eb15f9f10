import NSISource

/// Reporting and recovery: how an error is worded, where it points, and how the parser
/// finds solid ground again.
extension Parser {
    enum ReportKind {
        /// A token out of place: the parser's state is uncertain until the statement
        /// ends, so later errors of the statement are not reported.
        case parse
        /// A well-formed construct that breaks a rule (`f(a = 1, 2)`): reported unless
        /// the statement already has an error, and does not silence later errors.
        case rule
        /// Independent of the statement's state (an unclosed `{`, nesting too deep).
        case always
    }

    mutating func report(_ message: SyntaxMessage, at range: SourceRange, secondary: [Label] = [], kind: ReportKind = .parse) {
        if kind != .always && statementHasError { return }
        if kind == .parse { statementHasError = true }
        // Two errors at one place are one error seen twice.
        guard range.start != lastErrorOffset else { return }
        lastErrorOffset = range.start
        var diagnostic = Diagnostic(message, at: range)
        diagnostic.secondary = secondary
        diagnostics.append(diagnostic)
    }

    /// Where to point when `token` is not what was expected: at the token itself when it
    /// is on the same line, else just after the last token (where the missing one goes).
    func insertionRange(_ token: Token) -> SourceRange {
        if hasConsumed, token.kind == .newline || token.kind == .endOfFile || newlineBeforeCurrent {
            return .empty(at: previousEnd)
        }
        return token.range
    }

    func describe(_ token: Token) -> String {
        if token.kind != .endOfFile, newlineBeforeCurrent { return "end of line" }
        switch token.kind {
        case .newline: return "end of line"
        case .endOfFile: return "end of file"
        case .identifier, .integer, .float, .invalid: return "`\(text(token))`"
        case .string: return "a string"
        case .keyword(let keyword): return "keyword `\(keyword.rawValue)`"
        default: return "`\(token.kind.spelling ?? text(token))`"
        }
    }

    /// Reports that `what` was expected at the current token. A token the lexer already
    /// rejected is not reported again.
    mutating func reportExpected(_ what: String, help: String? = nil) {
        let token = current
        if token.kind == .invalid {
            statementHasError = true
            return
        }
        report(.expectedToken(what, found: describe(token), help: help), at: insertionRange(token))
    }

    /// Consumes `kind`, or reports it missing and goes on as if it were there.
    @discardableResult
    mutating func expect(_ kind: TokenKind, help: String? = nil) -> Bool {
        if eat(kind) != nil { return true }
        reportExpected("`\(kind.spelling!)`", help: help)
        return false
    }

    /// Consumes the `)` or `]` that closes `opener`. When it is missing, the error says
    /// which opener is unclosed; when junk stands before it on the same line, the junk
    /// is reported and skipped up to the closer.
    mutating func expectClosing(_ closer: TokenKind, opener: Token) {
        if eat(closer) != nil { return }
        let token = current
        let open = opener.kind.spelling!, close = closer.spelling!
        let isCloser = [TokenKind.rightParen, .rightBracket, .rightBrace].contains(token.kind)
        let startsStatement = if case .keyword(let keyword) = token.kind { keyword.startsStatement } else { false }
        if token.kind == .endOfFile || token.kind == .leftBrace || newlineBeforeCurrent || isCloser || startsStatement {
            report(.unclosedDelimiter(open: open, close: close), at: .empty(at: previousEnd),
                   secondary: [Label(opener.range, SyntaxLabel.unclosed(open))])
            return
        }
        // After an earlier error the statement is skipped anyway; not scanning again
        // keeps nested failures (`((((...`) linear.
        if statementHasError { return }
        if token.kind == .invalid {
            statementHasError = true
        } else {
            report(.expectedToken("`\(close)`", found: describe(token)), at: token.range)
        }
        skipToCloser(closer)
    }

    /// Skips to the matching `closer` within the current statement (this line, before
    /// any `;`) and consumes it, if it is there.
    private mutating func skipToCloser(_ closer: TokenKind) {
        var i = currentIndex
        var depth = 0
        while true {
            switch kinds[i] {
            case .endOfFile, .newline, .semicolon, .leftBrace, .rightBrace:
                return
            case .leftParen, .leftBracket:
                depth += 1
            case .rightParen, .rightBracket:
                if depth == 0 {
                    guard kinds[i] == closer else { return }
                    index = i
                    advance()
                    return
                }
                depth -= 1
            default:
                break
            }
            i += 1
        }
    }

    /// Skips the rest of a statement that cannot be parsed: up to a newline or `;`, or a
    /// `}` that closes the enclosing block. A `{ }` block inside the junk is skipped whole.
    mutating func skipToStatementEnd() {
        var braces = 0
        while true {
            switch kinds[index] {
            case .endOfFile:
                return
            case .newline, .semicolon:
                if braces == 0 { return }
            case .leftBrace:
                braces += 1
            case .rightBrace:
                if braces == 0 { return }
                braces -= 1
            default:
                break
            }
            advanceRaw()
        }
    }

    /// Skips a `{ ... }` whose `{` was just consumed, through its matching `}`.
    mutating func skipBalancedBraces() {
        var braces = 1
        while kinds[index] != .endOfFile {
            let kind = kinds[index]
            advanceRaw()
            if kind == .leftBrace { braces += 1 }
            if kind == .rightBrace {
                braces -= 1
                if braces == 0 { return }
            }
        }
    }

    /// Consumes the next raw token, newline or not.
    private mutating func advanceRaw() {
        let token = tokens[index]
        guard token.kind != .endOfFile else { return }
        index += 1
        if token.kind != .newline {
            previousEnd = token.range.end
            hasConsumed = true
        }
    }
}
