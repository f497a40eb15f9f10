import NSISource

/// What parsing a script gives: the tree, the tokens (with comments as trivia), and
/// every lexical and syntax diagnostic in source order.
public struct ParseResult: Sendable {
    public var file: SourceFile
    public var script: Script
    public var tokens: [Token]
    public var diagnostics: [Diagnostic]

    public var hasErrors: Bool { diagnostics.hasErrors }

    /// The ranges of all comments, in order (each from `#` to the end of its line).
    public var comments: [SourceRange] {
        tokens.flatMap { $0.leadingTrivia.filter { $0.kind == .comment }.map(\.range) }
    }
}

/// A recursive-descent parser with precedence climbing for expressions.
///
/// It never gives up: a missing token is reported and taken as present, an unusable
/// statement is reported and skipped to the next newline, `;` or `}`. After one error
/// in a statement, further errors in the same statement are not reported (they are
/// nearly always consequences of the first); errors in nested blocks are. Nesting of
/// blocks, brackets and operators is bounded by `maxNesting`, so the parser's stack and
/// the tree's depth are bounded on any input; each token is looked at a bounded number
/// of times, so time is linear in the input.
public struct Parser {
    public static let maxNesting = 256
    /// At most this many diagnostics are reported, then one E0121.
    public static let maxDiagnostics = 100

    let file: SourceFile
    let tokens: [Token]
    /// The kinds of `tokens`, apart: the parser looks at kinds far more often than at
    /// whole tokens, and a kind is cheap to copy.
    let kinds: [TokenKind]
    var index = 0
    /// End offset of the last token consumed other than a newline: where a missing
    /// token is reported.
    var previousEnd = 0
    /// Whether any token other than a newline has been consumed (before that, there is
    /// no "previous token" to point after).
    var hasConsumed = false
    var diagnostics: [Diagnostic] = []
    /// Whether newlines are skipped: true inside `( )` and `[ ]`, false at statement level.
    var newlineContexts: [Bool] = [false] {
        didSet { skipsNewlines = newlineContexts.last! }
    }
    /// The innermost entry of newlineContexts.
    private(set) var skipsNewlines = false
    var nesting = 0
    /// Past the nesting limit, one error per statement is enough.
    var nestingReported = false
    /// Set by the first error of the statement being parsed.
    var statementHasError = false
    var lastErrorOffset = -1
    /// In a generate header, `(` after the prompt starts the options, not a call.
    var restrictCalls = false

    public static func parse(_ file: SourceFile) -> ParseResult {
        let (tokens, lexical) = Lexer.tokenize(file)
        var parser = Parser(file: file, tokens: tokens)
        let script = parser.parseScript()
        var diagnostics = (lexical + parser.diagnostics).sortedBySource()
        if diagnostics.count > maxDiagnostics {
            // Bounded output on any input; the first errors are the useful ones.
            let cut = diagnostics[maxDiagnostics].primary.range.start
            diagnostics = Array(diagnostics.prefix(maxDiagnostics))
                + [Diagnostic(SyntaxMessage.tooManyErrors(limit: maxDiagnostics), at: .empty(at: cut))]
        }
        return ParseResult(file: file, script: script, tokens: tokens, diagnostics: diagnostics)
    }

    init(file: SourceFile, tokens: [Token]) {
        self.file = file
        self.tokens = tokens
        self.kinds = tokens.map(\.kind)
    }

    mutating func parseScript() -> Script {
        let statements = parseStatements(topLevel: true)
        return Script(statements: statements, range: SourceRange(start: 0, end: file.bytes.count))
    }

    // MARK: Token cursor

    /// The index of the current token: the next one, past newlines inside brackets.
    var currentIndex: Int {
        var i = index
        if skipsNewlines {
            while kinds[i] == .newline { i += 1 }
        }
        return i
    }

    var current: Token { tokens[currentIndex] }
    var kind: TokenKind { kinds[currentIndex] }

    /// The kind of the token `ahead` tokens after the current one, skipping newlines
    /// the same way.
    func peekKind(_ ahead: Int) -> TokenKind {
        var i = currentIndex
        var remaining = ahead
        while remaining > 0, kinds[i] != .endOfFile {
            i += 1
            if skipsNewlines { while kinds[i] == .newline { i += 1 } }
            remaining -= 1
        }
        return kinds[i]
    }

    /// Whether a newline separates the current token from the last one consumed.
    var newlineBeforeCurrent: Bool {
        guard hasConsumed else { return false }
        return current.kind == .newline || file.line(of: current.range.start) != file.line(of: previousEnd)
    }

    @discardableResult
    mutating func advance() -> Token {
        let i = currentIndex
        let token = tokens[i]
        if token.kind != .endOfFile { index = i + 1 }
        if token.kind != .newline && token.kind != .endOfFile {
            previousEnd = token.range.end
            hasConsumed = true
        }
        return token
    }

    mutating func eat(_ kind: TokenKind) -> Token? {
        self.kind == kind ? advance() : nil
    }

    func text(_ token: Token) -> String { file.text(in: token.range) }

    /// Parses inside `( )` or `[ ]`: newlines are skipped, and calls are allowed again.
    mutating func inBrackets<T>(_ body: (inout Parser) -> T) -> T {
        newlineContexts.append(true)
        let savedRestriction = restrictCalls
        restrictCalls = false
        let result = body(&self)
        restrictCalls = savedRestriction
        newlineContexts.removeLast()
        return result
    }

    /// Counts one level of nesting; false (after reporting) when the limit is reached.
    mutating func enterNesting(at range: SourceRange) -> Bool {
        guard nesting < Parser.maxNesting else {
            reportTooDeep(at: range)
            return false
        }
        nesting += 1
        return true
    }

    mutating func leaveNesting() { nesting -= 1 }

    mutating func reportTooDeep(at range: SourceRange) {
        if !nestingReported {
            report(.nestingTooDeep(limit: Parser.maxNesting), at: range, kind: .always)
            nestingReported = true
        }
        statementHasError = true
    }
}

/// A range from the start of `a` to the end of `b`, whichever order they are in.
func span(_ a: SourceRange, _ b: SourceRange) -> SourceRange { a.union(b) }
