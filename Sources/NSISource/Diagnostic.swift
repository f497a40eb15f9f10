/// How bad a diagnostic is. Errors stop every command that reads the script.
public enum Severity: String, Sendable, Codable, Comparable {
    case warning
    case error

    public static func < (a: Severity, b: Severity) -> Bool {
        a == .warning && b == .error
    }
}

/// A range of source with an optional short text printed beside its underline.
public struct Label: Sendable, Equatable {
    public var range: SourceRange
    public var message: String

    public init(_ range: SourceRange, _ message: String = "") {
        self.range = range
        self.message = message
    }
}

/// One problem found in a script: what (code, message), where (primary label, secondary
/// labels), and what to do (notes, help).
///
/// A Diagnostic is plain data. Where line and column fall, and how it looks on a
/// terminal or in JSON, is decided only when it is rendered (see TextRenderer and
/// JSONRenderer); the message text comes from a catalogue (see DiagnosticMessage).
public struct Diagnostic: Sendable, Equatable {
    public var code: DiagnosticCode
    public var severity: Severity
    public var message: String
    /// The range the diagnostic is about, underlined with `^`.
    public var primary: Label
    /// Related ranges, underlined with `-` (e.g. the shape of the other operand).
    public var secondary: [Label]
    /// Facts that explain the diagnostic, printed as `= note: ...`.
    public var notes: [String]
    /// What to change, printed as `= help: ...`.
    public var help: String?

    public init(
        code: DiagnosticCode,
        severity: Severity,
        message: String,
        primary: Label,
        secondary: [Label] = [],
        notes: [String] = [],
        help: String? = nil
    ) {
        self.code = code
        self.severity = severity
        self.message = message
        self.primary = primary
        self.secondary = secondary
        self.notes = notes
        self.help = help
    }

    /// A diagnostic from a catalogue message, pointing at `range`.
    public init(_ message: some DiagnosticMessage, at range: SourceRange) {
        self.init(
            code: message.code,
            severity: message.severity,
            message: message.text,
            primary: Label(range, message.label),
            notes: message.notes,
            help: message.help
        )
    }

    public func labeled(_ range: SourceRange, _ message: String) -> Diagnostic {
        var copy = self
        copy.secondary.append(Label(range, message))
        return copy
    }

    public func note(_ text: String) -> Diagnostic {
        var copy = self
        copy.notes.append(text)
        return copy
    }

    public func help(_ text: String) -> Diagnostic {
        var copy = self
        copy.help = text
        return copy
    }

    public var isError: Bool { severity == .error }
}

extension Array where Element == Diagnostic {
    public var hasErrors: Bool { contains { $0.isError } }

    /// In source order; diagnostics at the same place keep the order they were reported.
    public func sortedBySource() -> [Diagnostic] {
        var sorted = true
        for i in indices.dropFirst() where self[i - 1].primary.range.start > self[i].primary.range.start {
            sorted = false
            break
        }
        if sorted { return self }
        return enumerated()
            .sorted { ($0.element.primary.range.start, $0.offset) < ($1.element.primary.range.start, $1.offset) }
            .map(\.element)
    }
}
