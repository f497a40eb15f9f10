import Foundation
import Testing
import NSIJSON
import NSILSP
import NSITestSupport

/// LSP positions count characters in UTF-16 code units. These scripts put accents (one
/// precomposed, one combining), CJK and emoji (two units each; one with a skin-tone
/// modifier, two scalars in one grapheme) before the tokens the server reports or is
/// asked about, on the same line, so a column counted in bytes, scalars or graphemes
/// lands somewhere else. The model is SmolLM2's signature from Tests/Fixtures (config and
/// tokenizer, no weights), so prompts can be text.
@Suite struct UTF16PositionTests {
    static let model = Fixtures.path("smollm2-135m")
    static let uri = "file:///tmp/nsi-lsp-utf16/probe.nsi"
    /// Line 1; the prefix up to `{` is 26 UTF-16 units, 38 bytes, 23 scalars, 21 graphemes.
    static let trace = "trace \"Café e\u{301} 日本 😀👍🏽\" { let h = model.layers[1].output; save x = h[0, -1, 9999] }"
    static let script = "# 説明: an emoji 😀 in a comment\n" + trace + "\n"

    /// The UTF-16 column of the first `needle` in `line` (after `after`, when given).
    static func column(_ needle: String, in line: String = trace, after: String? = nil) throws -> Int {
        let from = try after.map { try #require(line.range(of: $0)).upperBound } ?? line.startIndex
        let r = try #require(line.range(of: needle, range: from..<line.endIndex))
        return line[..<r.lowerBound].utf16.count
    }

    func start(_ c: Client, _ text: String) {
        _ = try? c.request("initialize", .object([("capabilities", .object([]))]))
        c.notify("textDocument/didOpen", .object([("textDocument", .object([
            ("uri", .string(Self.uri)), ("languageId", .string("nsi")), ("version", .int(1)), ("text", .string(text)),
        ]))]))
    }

    func stop(_ c: Client) {
        _ = try? c.request("shutdown", .null)
        c.notify("exit", .null)
        #expect(c.finish() == 0)
    }

    func range(_ r: JSONValue?) -> [Int?] {
        [r?["start"]?["line"]?.intValue, r?["start"]?["character"]?.intValue, r?["end"]?["line"]?.intValue, r?["end"]?["character"]?.intValue]
    }

    /// The test's own premise: before `{` the counts of UTF-16 units, bytes, scalars and
    /// graphemes all differ, so only a UTF-16 column passes the tests below.
    @Test func theLineTellsTheCountsApart() throws {
        let prefix = String(Self.trace.prefix { $0 != "{" })
        #expect(prefix.utf16.count == 26 && prefix.utf8.count == 38 && prefix.unicodeScalars.count == 23 && prefix.count == 21,
                "\(prefix.utf16.count) \(prefix.utf8.count) \(prefix.unicodeScalars.count) \(prefix.count)")
        #expect(try Self.column("9999") == 78)
    }

    /// A checker diagnostic after the non-ASCII text: its range in UTF-16 columns; an
    /// incremental change addressed in UTF-16 columns replaces exactly the index.
    @Test func diagnosticRangesAndIncrementalChangesAreInUTF16() throws {
        let c = Client(model: Self.model)
        start(c, Self.script)
        let published = try c.notification("textDocument/publishDiagnostics")
        let diagnostics = published["params"]?["diagnostics"]?.arrayValue ?? []
        let d = try #require(diagnostics.first, "\(published.serialized)")
        #expect(diagnostics.count == 1 && d["code"]?.stringValue == "E0303", "\(published.serialized)")
        let col = try Self.column("9999")
        #expect(range(d["range"]) == [1, col, 1, col + 4], "\(d.serialized)")

        // Replace `9999` by `5`, addressed in UTF-16 columns: the script is then clean.
        c.notify("textDocument/didChange", .object([
            ("textDocument", .object([("uri", .string(Self.uri)), ("version", .int(2))])),
            ("contentChanges", .array([.object([("range", .object([("start", position(1, col)), ("end", position(1, col + 4))])),
                                                ("text", .string("5"))])])),
        ]))
        let fixed = try c.notification("textDocument/publishDiagnostics")
        #expect(fixed["params"]?["diagnostics"]?.arrayValue?.isEmpty == true, "\(fixed.serialized)")
        // The edit landed where it was meant to: hover over the new index shows it.
        let hover = try c.request("textDocument/hover", .object([("textDocument", doc(Self.uri)), ("position", position(1, col))]))
        #expect(range(hover["result"]?["range"]) == [1, col, 1, col + 1], "\(hover.serialized)")
        #expect(hover["result"]?["contents"]?["value"]?.stringValue?.contains("value known when compiling: `5`") == true, "\(hover.serialized)")
        stop(c)
    }

    /// The range of a diagnostic whose span holds non-ASCII text ends after it in UTF-16
    /// units (each emoji counts two).
    @Test func aRangeOverNonASCIITextEndsInUTF16() throws {
        let line = "trace \"Café 😀\" { save t = tok(\"日本😀👍🏽\") }"
        let c = Client(model: Self.model)
        start(c, "# ✓\n" + line + "\n")
        let published = try c.notification("textDocument/publishDiagnostics")
        let d = try #require(published["params"]?["diagnostics"]?.arrayValue?.first, "\(published.serialized)")
        // tok() of text that is not one token: the error spans the string (or the call).
        let string = "\"日本😀👍🏽\"", call = "tok(" + string + ")"
        let s = try Self.column(string, in: line), k = try Self.column(call, in: line)
        let r = range(d["range"])
        #expect(r == [1, s, 1, s + string.utf16.count] || r == [1, k, 1, k + call.utf16.count],
                "\(d.serialized); the string is at \(s)..<\(s + string.utf16.count)")
        stop(c)
    }

    /// Requests at UTF-16 columns after an emoji resolve to the token there: hover over
    /// an access point, the definition of a name, its references.
    @Test func incomingPositionsAreUTF16() throws {
        let fixedScript = Self.script.replacingOccurrences(of: "9999", with: "5")
        let c = Client(model: Self.model)
        start(c, fixedScript)
        let published = try c.notification("textDocument/publishDiagnostics")
        #expect(published["params"]?["diagnostics"]?.arrayValue?.isEmpty == true, "\(published.serialized)")

        let point = "model.layers[1].output"
        let p = try Self.column(point)
        let hover = try c.request("textDocument/hover", .object([("textDocument", doc(Self.uri)), ("position", position(1, p + 2))]))
        let text = try #require(hover["result"]?["contents"]?["value"]?.stringValue, "\(hover.serialized)")
        #expect(text.contains(point + ": f32[1, ") && text.contains("access point"), "\(text)")
        #expect(range(hover["result"]?["range"]) == [1, p, 1, p + point.utf16.count], "\(hover.serialized)")

        // The first column of the use of `h` (after `save x = `), and its last.
        let use = try Self.column("h[0", after: "save x = "), def = try Self.column("h = model")
        for at in [use, use + 1] {
            let definition = try c.request("textDocument/definition", .object([("textDocument", doc(Self.uri)), ("position", position(1, at))]))
            #expect(range(definition["result"]?["range"]) == [1, def, 1, def + 1], "\(definition.serialized)")
        }
        let refs = try c.request("textDocument/references", .object([("textDocument", doc(Self.uri)), ("position", position(1, def)),
                                                                    ("context", .object([("includeDeclaration", .bool(true))]))]))
        let starts = (refs["result"]?.arrayValue ?? []).map { range($0["range"]) }
        #expect(starts == [[1, def, 1, def + 1], [1, use, 1, use + 1]], "\(refs.serialized)")

        // The column just after the comment's emoji (two units) on line 0 is not a name:
        // nothing to define, and no crash inside the surrogate pair either.
        let emoji = try Self.column("😀", in: "# 説明: an emoji 😀 in a comment")
        for at in [emoji + 1, emoji + 2] {
            let none = try c.request("textDocument/definition", .object([("textDocument", doc(Self.uri)), ("position", position(0, at))]))
            #expect(none["result"] == .null, "\(none.serialized)")
        }
        stop(c)
    }
}
