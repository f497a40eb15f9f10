import NSISource

/// The canonical formatting of a script (`nsi fmt`).
///
/// Four spaces per block level; one statement per line; single spaces around binary
/// operators; `{}` for an empty block; at most one blank line wherever the source had
/// blank lines (none after `{` or before `}`). Comments stay where they were: a comment
/// on its own line stays on its own line, a comment after a statement stays after it.
/// A comment inside a multi-line bracketed expression moves to its own line just before
/// the statement. Formatting is idempotent and keeps the tree (tested on every sample).
public enum ScriptFormatter {
    /// The formatted text. Only for scripts without syntax errors: a tree with errors
    /// has holes that cannot be printed faithfully, so the source is returned unchanged.
    public static func format(_ result: ParseResult) -> String {
        guard !result.hasErrors else { return String(decoding: result.file.bytes, as: UTF8.self) }
        var writer = FormatWriter(file: result.file, comments: result.comments)
        writer.statements(result.script.statements, end: result.file.bytes.count)
        return writer.out
    }
}

struct FormatWriter {
    let file: SourceFile
    let comments: [SourceRange]
    var nextComment = 0
    var out = ""
    var indent = 0
    /// The source line of the last thing written, to keep blank lines between things.
    var lastLine = 0
    /// True right after a `{` (or at the top of the file): no blank line goes there.
    var atBlockStart = true

    init(file: SourceFile, comments: [SourceRange]) {
        self.file = file
        self.comments = comments
    }

    mutating func statements(_ list: [Stmt], end: Int) {
        atBlockStart = true
        for (position, statement) in list.enumerated() {
            let nextStart = position + 1 < list.count ? list[position + 1].range.start : end
            self.statement(statement, nextStart: nextStart)
        }
        flushComments(before: end)
    }

    private mutating func statement(_ statement: Stmt, nextStart: Int) {
        flushComments(before: statement.range.start)
        separate(fromLine: file.line(of: statement.range.start))
        switch statement.kind {
        case .trace(let trace):
            block(header: "trace" + (trace.prompt.map { " " + ExprPrinter.print($0) } ?? ""), trace.body, nextStart)
        case .generate(let generate):
            let options = generate.options.isEmpty ? "" : " (" + ExprPrinter.arguments(generate.options) + ")"
            block(header: "generate " + ExprPrinter.print(generate.prompt) + options, generate.body, nextStart)
        case .invoke(let invoke):
            block(header: "invoke " + ExprPrinter.print(invoke.prompt), invoke.body, nextStart)
        case .step(let step):
            block(header: "step " + ExprPrinter.print(step.steps), step.body, nextStart)
        case .eachStep(let each):
            block(header: "each step", each.body, nextStart)
        case .forLoop(let loop):
            block(header: "for \(loop.variable.name) in " + ExprPrinter.print(loop.sequence), loop.body, nextStart)
        case .ifElse(let ifStatement):
            flushComments(before: ifStatement.then.openBrace.start, separating: false)
            ifChain(ifStatement, prefix: "", nextStart: nextStart)
        default:
            // Comments inside a multi-line statement go before it.
            flushComments(before: statement.range.end, separating: false)
            line(simpleStatement(statement) + trailingComment(sameLineAs: statement.range.end, before: nextStart))
            mark(file.line(of: statement.range.end))
        }
    }

    private func simpleStatement(_ statement: Stmt) -> String {
        switch statement.kind {
        case .param(let param):
            "param \(param.name.name): " + ExprPrinter.print(param.type)
                + (param.defaultValue.map { " = " + ExprPrinter.print($0) } ?? "")
        case .binding(let binding):
            "\(binding.kind.rawValue) \(binding.name.name)"
                + (binding.indices.isEmpty ? "" : "[" + binding.indices.map(ExprPrinter.print).joined(separator: ", ") + "]")
                + " = " + ExprPrinter.print(binding.value)
        case .assign(let assign):
            ExprPrinter.print(assign.target) + " " + assign.op.spelling + " " + ExprPrinter.print(assign.value)
        case .skip(let skip):
            "skip " + ExprPrinter.print(skip.module)
        case .backward(let value):
            "backward " + ExprPrinter.print(value)
        case .seed(let value):
            "seed " + ExprPrinter.print(value)
        case .placeholder:
            "..."
        case .expression(let expr):
            ExprPrinter.print(expr)
        default:
            preconditionFailure("block statements are written by block(header:)")
        }
    }

    /// A header and its block, through the closing `}` and the comment after it.
    private mutating func block(header: String, _ body: Block, _ nextStart: Int) {
        flushComments(before: body.openBrace.start, separating: false)
        let closing = open(header, body, nextStart)
        line(closing + trailingComment(sameLineAs: closeOffset(body), before: nextStart))
        mark(file.line(of: closeOffset(body)))
    }

    /// `if c { } else if d { } else { }`, each `}` sharing its line with the next `else`.
    /// Comments in an `else` header (rare) move into the block that follows it.
    private mutating func ifChain(_ statement: IfStmt, prefix: String, nextStart: Int) {
        let closing = open(prefix + "if " + ExprPrinter.print(statement.condition), statement.then, nextStart)
        switch statement.elseClause {
        case nil:
            line(closing + trailingComment(sameLineAs: closeOffset(statement.then), before: nextStart))
            mark(file.line(of: closeOffset(statement.then)))
        case .block(let elseBlock):
            line(open(closing + " else", elseBlock, nextStart) + trailingComment(sameLineAs: closeOffset(elseBlock), before: nextStart))
            mark(file.line(of: closeOffset(elseBlock)))
        case .elseIf(let nested, _):
            ifChain(nested, prefix: closing + " else ", nextStart: nextStart)
        }
    }

    /// Writes `header {` and the body, and returns the text that closes it (`}`), for the
    /// caller to finish the line with. An empty block without comments is `header {}`.
    private mutating func open(_ header: String, _ body: Block, _ nextStart: Int) -> String {
        let close = closeOffset(body)
        let hasComments = nextComment < comments.count && comments[nextComment].start < close
        if body.statements.isEmpty && !hasComments { return header + " {}" }
        let firstInside = body.statements.first?.range.start ?? close
        var trailing = trailingComment(sameLineAs: body.openBrace.start, before: firstInside)
        if trailing.isEmpty, file.line(of: body.openBrace.start) == file.line(of: close) {
            // A one-line block's comment describes the block: it goes on the header line.
            trailing = trailingComment(sameLineAs: body.openBrace.start, before: nextStart)
        }
        line(header + " {" + trailing)
        mark(file.line(of: body.openBrace.start))
        indent += 1
        statements(body.statements, end: close)
        indent -= 1
        atBlockStart = false
        return "}"
    }

    private func closeOffset(_ body: Block) -> Int {
        body.closeBrace?.start ?? body.range.end
    }

    /// Writes the comments that start before `offset`, each on its own line; blank lines
    /// before them are kept unless they are being moved out of a statement.
    private mutating func flushComments(before offset: Int, separating: Bool = true) {
        while nextComment < comments.count, comments[nextComment].start < offset {
            let comment = comments[nextComment]
            nextComment += 1
            if separating { separate(fromLine: file.line(of: comment.start)) }
            line(text(of: comment))
            mark(file.line(of: comment.start))
        }
    }

    /// `  # text` when the next comment is on the line of `offset` and starts before `limit`.
    private mutating func trailingComment(sameLineAs offset: Int, before limit: Int) -> String {
        guard nextComment < comments.count else { return "" }
        let comment = comments[nextComment]
        guard comment.start >= offset, comment.start < limit, file.line(of: comment.start) == file.line(of: offset) else { return "" }
        nextComment += 1
        return "  " + text(of: comment)
    }

    private func text(of comment: SourceRange) -> String {
        var text = file.text(in: comment)
        while let last = text.last, last == " " || last == "\t" || last == "\r" { text.removeLast() }
        return text
    }

    /// One blank line before something that started more than a line after the last thing.
    private mutating func separate(fromLine sourceLine: Int) {
        if !atBlockStart, sourceLine > lastLine + 1 { out += "\n" }
        atBlockStart = false
    }

    /// Records that the source up to `sourceLine` has been written. Comments moved into
    /// a later block come from earlier lines, so the mark never goes back.
    private mutating func mark(_ sourceLine: Int) {
        lastLine = max(lastLine, sourceLine)
    }

    private mutating func line(_ text: String) {
        out += String(repeating: "    ", count: indent) + text + "\n"
    }
}
