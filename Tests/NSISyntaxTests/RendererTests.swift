import Foundation
import NSISource
import Testing

@Suite struct RendererTests {
    /// The brief's example, rebuilt by hand: the layout must match it line for line.
    /// (The brief prints 6:41 for the location; with the line as shown, `clean` starts
    /// at column 37, which is what is computed here.)
    @Test func reproducesTheBriefsExample() {
        let lines = ["trace {", "    invoke \"a\" {", "        let clean = x", "    }", "    invoke \"b\" {",
                     "    model.layers[8].output[:, -1] = clean[:, -1, :10]", "    }", "}"]
        let file = SourceFile(path: "patch.nsi", text: lines.joined(separator: "\n") + "\n")
        let line6 = file.lineStarts[5]
        let target = SourceRange(start: line6 + 4, end: line6 + 33)
        let value = SourceRange(start: line6 + 36, end: line6 + 53)
        let diagnostic = Diagnostic(
            code: DiagnosticCode("E0301"), severity: .error,
            message: "cannot assign f32[1, 10] to model.layers[8].output[:, -1] of shape f32[1, 576]",
            primary: Label(value, "f32[1, 10]"),
            secondary: [Label(target, "f32[1, 576]")],
            notes: ["dimension 1: 10 does not broadcast to 576"]
        )
        let expected = """
            error[E0301]: cannot assign f32[1, 10] to model.layers[8].output[:, -1] of shape f32[1, 576]
             --> patch.nsi:6:37
              |
            6 |     model.layers[8].output[:, -1] = clean[:, -1, :10]
              |     -----------------------------   ^^^^^^^^^^^^^^^^^ f32[1, 10]
              |     |
              |     f32[1, 576]
              = note: dimension 1: 10 does not broadcast to 576

            """
        #expect(TextRenderer().render(diagnostic, in: file) == expected)
    }

    @Test func severalHangingLabelsDoNotCross() {
        let file = SourceFile(path: "t.nsi", text: "let x = aaa + bbb + ccc\n")
        let diagnostic = Diagnostic(code: DiagnosticCode("E0399"), severity: .error, message: "m",
                                    primary: Label(SourceRange(start: 20, end: 23), "third"),
                                    secondary: [Label(SourceRange(start: 8, end: 11), "first"),
                                                Label(SourceRange(start: 14, end: 17), "second")])
        let expected = """
            error[E0399]: m
             --> t.nsi:1:21
              |
            1 | let x = aaa + bbb + ccc
              |         ---   ---   ^^^ third
              |         |     |
              |         |     second
              |         first

            """
        #expect(TextRenderer().render(diagnostic, in: file) == expected)
    }

    @Test func helpAndWarningsAndNoColorByDefault() {
        let file = SourceFile(path: "t.nsi", text: "let x = 1\n")
        let diagnostic = Diagnostic(code: DiagnosticCode("W0201"), severity: .warning, message: "shadowed",
                                    primary: Label(SourceRange(start: 4, end: 5), "here"), help: "rename it")
        let text = TextRenderer().render(diagnostic, in: file)
        #expect(text.hasPrefix("warning[W0201]: shadowed\n"))
        #expect(text.hasSuffix("  = help: rename it\n"))
        #expect(!text.contains("\u{1B}"))
        #expect(TextRenderer(useColor: true).render(diagnostic, in: file).contains("\u{1B}[1;33m"))
    }

    @Test func anEmptyRangeAtTheEndOfALineGetsOneCaret() {
        let file = SourceFile(path: "t.nsi", text: "let x =\n")
        let diagnostic = Diagnostic(code: DiagnosticCode("E0102"), severity: .error, message: "m",
                                    primary: Label(.empty(at: 7), "here"))
        #expect(TextRenderer().render(diagnostic, in: file).contains("1 | let x =\n  |        ^ here\n"))
    }

    @Test func jsonHasEveryField() throws {
        let file = SourceFile(path: "t.nsi", text: "let x = é\n")
        let diagnostic = Diagnostic(code: DiagnosticCode("E0006"), severity: .error, message: "bad",
                                    primary: Label(SourceRange(start: 8, end: 10), "here"), notes: ["n"], help: nil)
        let line = JSONRenderer().render(diagnostic, in: file)
        #expect(!line.contains("\n"))
        #expect(line.contains("\"help\":null"))
        let decoded = try JSONDecoder().decode(JSONDiagnostic.self, from: Data(line.utf8))
        #expect(decoded.code == "E0006")
        #expect(decoded.range.start == JSONDiagnostic.Position(line: 1, column: 9, offset: 8))
        #expect(decoded.range.end == JSONDiagnostic.Position(line: 1, column: 10, offset: 10))
        #expect(decoded.labels.count == 1 && decoded.labels[0].primary)
        #expect(decoded.notes == ["n"])
    }
}
