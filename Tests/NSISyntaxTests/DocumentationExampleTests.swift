import Foundation
import NSISource
import NSISyntax
import Testing

/// The examples in the documentation are code too: those of the language reference
/// parse and format cleanly; the one in the testing notes meets its own expectations.
@Suite struct DocumentationExampleTests {
    static func examples(_ document: String) -> [String] {
        let url = SyntaxFixtures.packageRoot.appendingPathComponent("docs").appendingPathComponent(document)
        let text = String(decoding: (try? Data(contentsOf: url)) ?? Data(), as: UTF8.self)
        var blocks: [String] = []
        var current: [Substring]?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil, line == "```nsi" {
                current = []
            } else if let lines = current, line == "```" {
                blocks.append(lines.joined(separator: "\n") + "\n")
                current = nil
            } else {
                current?.append(line)
            }
        }
        return blocks
    }

    @Test func theReferenceHasExamples() {
        #expect(Self.examples("language.md").count >= 5)
    }

    @Test(arguments: examples("language.md").indices)
    func referenceExampleParses(_ index: Int) {
        let file = SourceFile(path: "language.md#\(index)", text: Self.examples("language.md")[index])
        let result = Parser.parse(file)
        #expect(result.diagnostics.isEmpty, "\(TextRenderer().render(result.diagnostics, in: file))")
        #expect(RoundTrip(file).problems.isEmpty)
    }

    @Test func testingNotesExampleMeetsItsExpectations() {
        let examples = Self.examples("testing.md")
        #expect(examples.count == 1)
        for (index, example) in examples.enumerated() {
            let file = SourceFile(path: "testing.md#\(index)", text: example)
            let report = InlineExpectations.check(Parser.parse(file).diagnostics, against: file)
            #expect(report.passed && report.expected.count == 4, "\(report)")
        }
    }
}
