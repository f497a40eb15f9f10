import NSISource
@testable import NSISyntax
import Testing

/// Deleting or doubling any one token of a correct script gives at most two errors,
/// never a cascade. (Two, not one: a doubled `{` really leaves a block unclosed, and a
/// deleted `{` with no sign of where the body is leaves its `}` unmatched.)
@Suite struct CascadeTests {
    @Test(arguments: WellFormedScriptTests.scripts)
    func oneTokenEditGivesFewErrors(_ name: String) {
        let file = WellFormedScriptTests.load(name)
        let tokens = Lexer.tokenize(file).tokens.filter { $0.kind != .endOfFile && $0.kind != .newline }
        var worst: (count: Int, edit: String) = (0, "")
        for token in tokens {
            let before = Array(file.bytes[..<token.range.start])
            let text = Array(file.bytes[token.range.start..<token.range.end])
            let after = Array(file.bytes[token.range.end...])
            for (edit, bytes) in [("delete", before + after), ("double", before + text + text + after)] {
                let count = Parser.parse(SourceFile(path: name, bytes: bytes)).diagnostics.count
                if count > worst.count {
                    worst = (count, "\(edit) `\(String(decoding: text, as: UTF8.self))` at \(file.location(of: token.range.start))")
                }
            }
        }
        #expect(worst.count <= 2, "\(name): \(worst.count) diagnostics after \(worst.edit)")
    }
}
