/// A message from a catalogue: its code, default severity and text.
///
/// Each stage keeps its messages in one enum conforming to this protocol, so that every
/// wording lives in one place and a code can never be paired with the wrong text.
public protocol DiagnosticMessage: Sendable {
    var code: DiagnosticCode { get }
    var severity: Severity { get }
    var text: String { get }
    /// Text beside the primary underline; empty for none.
    var label: String { get }
    var notes: [String] { get }
    var help: String? { get }
}

extension DiagnosticMessage {
    public var severity: Severity { code.rawValue.hasPrefix("W") ? .warning : .error }
    public var label: String { "" }
    public var notes: [String] { [] }
    public var help: String? { nil }
}

/// One code of the catalogue, for documentation and for tests that check coverage.
public struct CatalogueEntry: Sendable, Equatable {
    public var code: DiagnosticCode
    public var severity: Severity
    /// A short summary, the same for every occurrence (`unterminated string literal`).
    public var title: String

    public init(code: DiagnosticCode, severity: Severity, title: String) {
        self.code = code
        self.severity = severity
        self.title = title
    }
}

/// Every code of every stage. Later stages append their enums here.
public enum DiagnosticCatalogue {
    public static let entries: [CatalogueEntry] = SyntaxCode.allCases.map(\.entry)

    private static let byCode = Dictionary(uniqueKeysWithValues: entries.map { ($0.code, $0) })

    public static func entry(for code: DiagnosticCode) -> CatalogueEntry? {
        byCode[code]
    }
}
