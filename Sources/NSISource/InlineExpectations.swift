/// Expected diagnostics written inside a test script as comments, checked by one runner.
///
/// A comment holding `expect:` followed by one or more `CODE @ LINE:COLUMN` items,
/// separated by commas, expects exactly those diagnostics:
///
///     let x = (1 +          # expect: E0102 @ 2:13
///     # expect: E0104 @ 5:1, E0105 @ 6:1
///
/// Line and column are those of the diagnostic's primary range start, 1-based, as
/// printed in `--> file:line:col`. A check passes when the set of reported (code,
/// line:col) pairs equals the set of expected ones: nothing missing, nothing extra.
/// Every later stage (the checker's failing scripts) uses the same syntax and runner.
public struct Expectation: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var code: DiagnosticCode
    public var location: SourceLocation

    public init(code: DiagnosticCode, location: SourceLocation) {
        self.code = code
        self.location = location
    }

    public init(_ diagnostic: Diagnostic, in file: SourceFile) {
        self.init(code: diagnostic.code, location: file.location(of: diagnostic.primary.range.start))
    }

    public static func < (a: Expectation, b: Expectation) -> Bool {
        (a.location, a.code) < (b.location, b.code)
    }

    public var description: String { "\(code) @ \(location)" }
}

/// What a check found; `passed` when the reported diagnostics are exactly the expected ones.
public struct ExpectationReport: Sendable, CustomStringConvertible {
    public var expected: [Expectation]
    public var missing: [Expectation]
    public var unexpected: [Expectation]
    /// Expectation comments that could not be read.
    public var malformed: [String]

    public var passed: Bool { missing.isEmpty && unexpected.isEmpty && malformed.isEmpty }

    public var description: String {
        var lines: [String] = []
        lines += malformed.map { "malformed expectation: \($0)" }
        lines += missing.map { "expected but not reported: \($0)" }
        lines += unexpected.map { "reported but not expected: \($0)" }
        return lines.isEmpty ? "all \(expected.count) expectations met" : lines.joined(separator: "\n")
    }
}

public enum InlineExpectations {
    public static let marker = "expect:"

    /// The expectations written in `file`, and the comments that hold an `expect:`
    /// marker but do not parse.
    public static func parse(_ file: SourceFile) -> (expectations: [Expectation], malformed: [String]) {
        var expectations: [Expectation] = []
        var malformed: [String] = []
        for line in 1...file.lineCount {
            let text = file.lineText(line)
            // The first `#` followed by the marker: an earlier `#` may sit in a string.
            let comments = text.indices.filter { text[$0] == "#" }
                .map { text[text.index(after: $0)...].drop { $0 == " " } }
            guard let comment = comments.first(where: { $0.hasPrefix(marker) }) else { continue }
            for item in comment.dropFirst(marker.count).split(separator: ",") {
                if let expectation = parseItem(item) {
                    expectations.append(expectation)
                } else {
                    malformed.append("line \(line): `\(item.trimmingSpaces())`")
                }
            }
        }
        return (expectations, malformed)
    }

    /// Compares the diagnostics reported for `file` with the expectations written in it.
    public static func check(_ diagnostics: [Diagnostic], against file: SourceFile) -> ExpectationReport {
        let (expected, malformed) = parse(file)
        let actual = diagnostics.map { Expectation($0, in: file) }
        return ExpectationReport(
            expected: expected.sorted(),
            missing: subtracting(actual, from: expected),
            unexpected: subtracting(expected, from: actual),
            malformed: malformed
        )
    }

    /// `items` with one occurrence of each element of `other` removed (a multiset difference).
    private static func subtracting(_ other: [Expectation], from items: [Expectation]) -> [Expectation] {
        var counts: [Expectation: Int] = [:]
        for item in other { counts[item, default: 0] += 1 }
        var result: [Expectation] = []
        for item in items.sorted() {
            if let count = counts[item], count > 0 { counts[item] = count - 1 } else { result.append(item) }
        }
        return result
    }

    /// `E0102 @ 3:5`
    private static func parseItem(_ item: Substring) -> Expectation? {
        let parts = item.split(separator: "@")
        guard parts.count == 2 else { return nil }
        let code = parts[0].trimmingSpaces()
        let position = parts[1].trimmingSpaces().split(separator: ":")
        guard DiagnosticCode.isWellFormed(code), position.count == 2,
              let line = Int(position[0]), let column = Int(position[1]), line > 0, column > 0
        else { return nil }
        return Expectation(code: DiagnosticCode(code), location: SourceLocation(line: line, column: column))
    }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
