/// A stable diagnostic code such as `E0102` or `W0201`.
///
/// Codes never change meaning once released: tools, tests and documentation refer to
/// them. The letter says the default severity (E error, W warning); the first two
/// digits say which stage reports it:
///
/// | range | stage | reported by |
/// |---|---|---|
/// | 00xx | lexical: characters, literals | lexer (NSISyntax) |
/// | 01xx | syntax: tokens out of place, malformed constructs | parser (NSISyntax) |
/// | 02xx | names, scopes, placement of statements | checker |
/// | 03xx | types and shapes | checker |
/// | 04xx | the model: access points, layer indices, callable modules | checker |
/// | 05xx | causality and execution order | checker |
/// | 06xx | params and their binding | checker, driver |
/// | 07xx, 08xx | reserved | |
/// | 09xx | the tool itself: files, options | driver |
///
/// Each stage declares its codes in one `CaseIterable` enum in this folder (see
/// SyntaxCode) and its message texts in one message enum (see SyntaxMessage);
/// `DiagnosticCatalogue.entries` lists them all.
public struct DiagnosticCode: Hashable, Sendable, Comparable, Codable, CustomStringConvertible {
    public let rawValue: String

    public init(_ rawValue: String) {
        precondition(DiagnosticCode.isWellFormed(rawValue), "bad diagnostic code \(rawValue)")
        self.rawValue = rawValue
    }

    /// For catalogue enums whose raw values are checked once by a test, not on every use.
    init(unchecked rawValue: String) {
        self.rawValue = rawValue
    }

    /// `E` or `W` followed by four digits.
    public static func isWellFormed(_ text: String) -> Bool {
        guard text.utf8.count == 5 else { return false }
        for (index, byte) in text.utf8.enumerated() {
            let ok = index == 0 ? byte == UInt8(ascii: "E") || byte == UInt8(ascii: "W") : byte >= 0x30 && byte <= 0x39
            if !ok { return false }
        }
        return true
    }

    /// The four digits as a number: E0102 is 102.
    public var number: Int { Int(rawValue.dropFirst())! }

    /// The hundreds: 0 lexical, 1 syntax, 2 names, 3 types and shapes, ...
    public var stage: Int { number / 100 }

    public static func < (a: DiagnosticCode, b: DiagnosticCode) -> Bool { a.rawValue < b.rawValue }

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard DiagnosticCode.isWellFormed(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad code \(text)"))
        }
        rawValue = text
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
