import NSISource
import NSISyntax
import NSITestSupport

/// The formatter's promises on one script: the output parses, formatting it again
/// changes nothing, and the tree is the same apart from ranges.
struct RoundTrip {
    var formatted: String
    var problems: [String] = []

    init(_ file: SourceFile) {
        let original = Parser.parse(file)
        formatted = ScriptFormatter.format(original)
        let reparsed = Parser.parse(SourceFile(path: file.path, text: formatted))
        if reparsed.hasErrors {
            problems.append("the formatted text has errors: \(reparsed.diagnostics.map(\.message))")
            return
        }
        let before = ASTDump.render(original.script, in: file, includeRanges: false)
        let after = ASTDump.render(reparsed.script, in: reparsed.file, includeRanges: false)
        if before != after {
            problems.append("the tree changed:\n" + Golden.difference(before, after))
        }
        let again = ScriptFormatter.format(reparsed)
        if again != formatted {
            problems.append("formatting is not idempotent:\n" + Golden.difference(formatted, again))
        }
    }
}
