import Foundation
import NSICheck
import NSIJSON
import NSIModel
import NSISource
import NSISyntax

/// An open document and what the checker said about its current text. Diagnostics come
/// from a check that records nothing else, so they are published as soon as possible
/// after a change; the type of every expression (for hover) is recorded by a second check
/// on the first request that needs it.
final class Document {
    let uri: String
    let version: Int
    let file: SourceFile
    let parsed: ParseResult
    let signature: ModelSignature?
    /// Nil without a model (syntax only) or when the script does not parse.
    let checked: CheckResult?

    init(uri: String, version: Int, text: String, signature: ModelSignature?) {
        self.uri = uri
        self.version = version
        self.signature = signature
        file = SourceFile(path: Document.path(of: uri), text: text)
        parsed = Parser.parse(file)
        if let signature, !parsed.hasErrors {
            checked = Checker.check(parsed, signature: signature, baseDirectory: Document.baseDirectory(of: file), buildProgram: false)
        } else {
            checked = nil
        }
    }

    /// Where `load(...)` paths are relative to: the script's folder.
    static func baseDirectory(of file: SourceFile) -> String {
        let base = (file.path as NSString).deletingLastPathComponent
        return base.isEmpty ? "." : base
    }

    /// Every checked expression's type, in source order (empty without a check).
    lazy var expressions: [CheckedExpression] = {
        guard let signature, checked != nil else { return [] }
        return Checker.check(parsed, signature: signature, baseDirectory: Document.baseDirectory(of: file), recordTypes: true, buildProgram: false).expressions
    }()

    /// The diagnostics `nsi check` reports for this text.
    var diagnostics: [Diagnostic] { parsed.diagnostics + (checked?.diagnostics ?? []) }

    /// A `file://` URI's path (percent escapes decoded); other URIs as they are.
    static func path(of uri: String) -> String {
        guard uri.hasPrefix("file://") else { return uri }
        let rest = String(uri.dropFirst("file://".count))
        return rest.removingPercentEncoding ?? rest
    }

    // MARK: Positions (see `SourceFile.offset(line:character:)`)

    func offset(line: Int, character: Int) -> Int { file.offset(line: line, character: character) }
    func position(_ offset: Int) -> JSONValue { file.position(offset) }
    func range(_ r: SourceRange) -> JSONValue { file.range(r) }
    func range(from json: JSONValue?) -> SourceRange? { file.range(from: json) }

    /// The text of line `line` up to `offset`.
    func linePrefix(to offset: Int) -> String {
        var start = offset
        while start > 0, file.bytes[start - 1] != 10 { start -= 1 }
        return String(decoding: file.bytes[start..<offset], as: UTF8.self)
    }

    // MARK: Names

    /// Every definition of a name (`param`, `let`, `save`, a `for` variable) and every use,
    /// in source order.
    func names() -> (definitions: [(String, SourceRange, String)], uses: [(String, SourceRange)]) {
        var defs: [(String, SourceRange, String)] = []
        var uses: [(String, SourceRange)] = []
        func walk(_ e: Expr) {
            if case .name(let n) = e.kind { uses.append((n, e.range)) }
            e.children.forEach(walk)
        }
        func walk(_ s: Stmt) {
            switch s.kind {
            case .param(let p): defs.append((p.name.name, p.name.range, "param"))
            case .binding(let b): defs.append((b.name.name, b.name.range, b.kind.rawValue))
            case .forLoop(let f): defs.append((f.variable.name, f.variable.range, "loop variable"))
            default: break
            }
            s.expressions.forEach(walk)
            for b in s.blocks { b.statements.forEach(walk) }
        }
        parsed.script.statements.forEach(walk)
        return (defs, uses)
    }
}

/// Positions as the protocol has them, in a file's text: lines from 0, characters in
/// UTF-16 code units.
extension SourceFile {
    /// LSP positions count lines from 0 and characters in UTF-16 code units.
    func offset(line: Int, character: Int) -> Int {
        guard line >= 0 else { return 0 }
        guard line < lineStarts.count else { return bytes.count }
        let lineStart = lineStarts[line]
        let lineEnd = line + 1 < lineStarts.count ? lineStarts[line + 1] : bytes.count
        var units = 0, i = lineStart
        let text = String(decoding: bytes[lineStart..<lineEnd], as: UTF8.self)
        for scalar in text.unicodeScalars {
            if units >= character || scalar == "\n" { break }
            units += scalar.utf16.count
            i += scalar.utf8.count
        }
        return min(i, lineEnd)
    }

    func position(_ offset: Int) -> JSONValue {
        let o = max(0, min(offset, bytes.count))
        var line = 0
        var lo = 0, hi = lineStarts.count - 1
        while lo <= hi {
            let mid = (lo + hi) / 2
            if lineStarts[mid] <= o { line = mid; lo = mid + 1 } else { hi = mid - 1 }
        }
        let units = String(decoding: bytes[lineStarts[line]..<o], as: UTF8.self).utf16.count
        return .object([("line", .int(Int64(line))), ("character", .int(Int64(units)))])
    }

    func range(_ r: SourceRange) -> JSONValue {
        .object([("start", position(r.start)), ("end", position(max(r.end, r.start)))])
    }

    func range(from json: JSONValue?) -> SourceRange? {
        guard let s = json?["start"], let e = json?["end"],
              let sl = s["line"]?.intValue, let sc = s["character"]?.intValue,
              let el = e["line"]?.intValue, let ec = e["character"]?.intValue else { return nil }
        return SourceRange(start: offset(line: sl, character: sc), end: offset(line: el, character: ec))
    }
}
