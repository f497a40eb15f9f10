import Foundation

/// Renders diagnostics as JSON lines for editors: one object per diagnostic, with the
/// same content as the text form and both line/column and byte offsets.
///
///     {"code":"E0102","file":"x.nsi","help":null,"labels":[...],"message":"...",
///      "notes":[],"range":{"end":{...},"start":{"column":9,"line":3,"offset":40}},
///      "severity":"error"}
///
/// Columns are 1-based Unicode scalar counts, as in the text form; `end` is exclusive.
public struct JSONRenderer: Sendable {
    public init() {}

    public func render(_ diagnostics: [Diagnostic], in file: SourceFile) -> String {
        diagnostics.map { render($0, in: file) + "\n" }.joined()
    }

    public func render(_ diagnostic: Diagnostic, in file: SourceFile) -> String {
        let object = JSONDiagnostic(diagnostic, in: file)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain strings and numbers cannot fail.
        let data = try! encoder.encode(object)
        return String(decoding: data, as: UTF8.self)
    }
}

/// The JSON shape of a diagnostic; decodable too, so editors' tests can read it back.
public struct JSONDiagnostic: Codable, Equatable, Sendable {
    public struct Position: Codable, Equatable, Sendable {
        public var line: Int
        public var column: Int
        public var offset: Int

        public init(line: Int, column: Int, offset: Int) {
            self.line = line
            self.column = column
            self.offset = offset
        }
    }

    public struct Range: Codable, Equatable, Sendable {
        public var start: Position
        public var end: Position
    }

    public struct Label: Codable, Equatable, Sendable {
        public var primary: Bool
        public var message: String
        public var range: Range
    }

    public var code: String
    public var severity: String
    public var message: String
    public var file: String
    public var range: Range
    public var labels: [Label]
    public var notes: [String]
    public var help: String?

    public init(_ diagnostic: Diagnostic, in file: SourceFile) {
        func position(_ offset: Int) -> Position {
            let location = file.location(of: offset)
            return Position(line: location.line, column: location.column, offset: offset)
        }
        func range(_ range: SourceRange) -> Range {
            Range(start: position(range.start), end: position(range.end))
        }
        code = diagnostic.code.rawValue
        severity = diagnostic.severity.rawValue
        message = diagnostic.message
        self.file = file.path
        self.range = range(diagnostic.primary.range)
        labels = [Label(primary: true, message: diagnostic.primary.message, range: range(diagnostic.primary.range))]
            + diagnostic.secondary.map { Label(primary: false, message: $0.message, range: range($0.range)) }
        notes = diagnostic.notes
        help = diagnostic.help
    }

    enum CodingKeys: String, CodingKey {
        case code, severity, message, file, range, labels, notes, help
    }

    // Written by hand so that a missing help is `null` rather than absent: editors can
    // rely on every key being there.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(code, forKey: .code)
        try container.encode(severity, forKey: .severity)
        try container.encode(message, forKey: .message)
        try container.encode(file, forKey: .file)
        try container.encode(range, forKey: .range)
        try container.encode(labels, forKey: .labels)
        try container.encode(notes, forKey: .notes)
        try container.encode(help, forKey: .help)
    }
}
