import Foundation
import NSISource
import NSISyntax
import Testing

/// The brief's examples, the samples and the well-formed fixtures parse without a
/// diagnostic, and format idempotently to the same tree.
@Suite struct WellFormedScriptTests {
    static let scripts: [String] =
        SyntaxFixtures.scripts(in: "brief").map { "brief/\($0)" }
        + SyntaxFixtures.scripts(in: "wellformed").map { "wellformed/\($0)" }
        + SyntaxFixtures.sampleNames.map { "Samples/\($0)" }

    static func load(_ path: String) -> SourceFile {
        let parts = path.split(separator: "/").map(String.init)
        return parts[0] == "Samples" ? SyntaxFixtures.sample(parts[1]) : SyntaxFixtures.source(parts[0], parts[1])
    }

    @Test func theFourAcceptanceSamplesAreThere() {
        #expect(Set(["ablation.nsi", "logit_lens.nsi", "patching.nsi", "steering.nsi"]).isSubset(of: SyntaxFixtures.sampleNames))
    }

    @Test func theBriefsFragmentsAreThere() {
        #expect(SyntaxFixtures.scripts(in: "brief") == ["blocks.nsi", "params.nsi", "statements.nsi"])
    }

    @Test(arguments: scripts)
    func parsesWithoutDiagnostics(_ path: String) {
        let result = Parser.parse(Self.load(path))
        #expect(result.diagnostics.isEmpty, "\(path): \(TextRenderer().render(result.diagnostics, in: result.file))")
    }

    @Test(arguments: scripts)
    func formatsIdempotentlyKeepingTheTree(_ path: String) {
        let roundTrip = RoundTrip(Self.load(path))
        #expect(roundTrip.problems.isEmpty, "\(path): \(roundTrip.problems.joined(separator: "\n"))")
    }

    /// Every comment of the source is in the formatted text.
    @Test(arguments: scripts)
    func formattingKeepsEveryComment(_ path: String) {
        let file = Self.load(path)
        let result = Parser.parse(file)
        let formatted = ScriptFormatter.format(result)
        for comment in result.comments {
            let text = file.text(in: comment).trimmingCharacters(in: .whitespaces)
            #expect(formatted.contains(text), "\(path): lost comment \(text)")
        }
    }
}
