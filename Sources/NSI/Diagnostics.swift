import Foundation
import NSISource

/// One problem the compiler found in a script, as a value: a stable code (`E0301`),
/// where it starts and ends (1-based lines and columns), the message, notes and help,
/// and its rendering as text (what `nsi check` prints) and as JSON (what
/// `nsi check --diagnostics json` prints, one object).
public struct Diagnostic: Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable, Equatable {
        case warning, error
    }

    public let code: String
    public let severity: Severity
    public let message: String
    public let line: Int
    public let column: Int
    public let endLine: Int
    public let endColumn: Int
    public let notes: [String]
    public let help: String?
    /// As a compiler prints it: the message, the source line, the underline, notes.
    public let rendered: String
    /// One JSON object (the editor format of `nsi check --diagnostics json`).
    public let json: String

    public var isError: Bool { severity == .error }
    public var description: String { rendered }

    init(_ d: NSISource.Diagnostic, in file: SourceFile) {
        code = d.code.rawValue
        severity = d.severity == .error ? .error : .warning
        message = d.message
        let start = file.location(of: d.primary.range.start), end = file.location(of: d.primary.range.end)
        (line, column, endLine, endColumn) = (start.line, start.column, end.line, end.column)
        notes = d.notes
        help = d.help
        rendered = TextRenderer(useColor: false).render([d], in: file)
        json = JSONRenderer().render(d, in: file)
    }
}

extension [Diagnostic] {
    /// Every diagnostic's JSON object in one array.
    public var json: String { "[" + map(\.json).joined(separator: ",") + "]" }
    /// Every diagnostic as a compiler prints it.
    public var rendered: String { map(\.rendered).joined() }
    public var hasErrors: Bool { contains(where: \.isError) }
}

/// A script that did not compile: every diagnostic, errors and warnings.
public struct CompileError: Error, Sendable, CustomStringConvertible {
    public let diagnostics: [Diagnostic]
    /// What `nsi check` prints for the script: every diagnostic and a closing count.
    public let report: String
    public var description: String { report }
}
