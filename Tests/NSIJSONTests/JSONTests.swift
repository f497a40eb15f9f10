import Foundation
import NSIJSON
import Testing

/// The one JSON reader: exact integers, ordered members, strings with every escape, and
/// errors that say where.
@Suite struct JSONTests {
    @Test func numbersKeepTheirKind() throws {
        let v = try JSONValue.parse(#"[0, -7, 9007199254740993, 1.5, 1e3, -0.0, 12345678901234567890]"#)
        let items = try #require(v.arrayValue)
        #expect(items[0] == .int(0) && items[1] == .int(-7))
        // 2^53 + 1 is not a Double; it stays exact.
        #expect(items[2] == .int(9_007_199_254_740_993))
        #expect(items[3] == .double(1.5) && items[4] == .double(1000))
        guard case .double(let z) = items[5] else { Issue.record("-0.0 is not a double"); return }
        #expect(z == 0 && z.sign == .minus)
        // Past Int64: a double, as every reader gives it.
        #expect(items[6].doubleValue == 12_345_678_901_234_567_890 && items[6].intValue == nil)
        #expect(JSONValue.double(3.0).intValue == 3 && JSONValue.double(3.5).intValue == nil)
    }

    @Test func objectsKeepTheirOrderAndLookUp() throws {
        let v = try JSONValue.parse(#"{"b": 1, "a": {"x": [true, null]}, "b": 2}"#)
        #expect(v.objectValue?.map(\.key) == ["b", "a", "b"])
        #expect(v["b"] == .int(1))
        #expect(v.dictionary?["b"] == .int(2))
        #expect(v["a"]?["x"]?.arrayValue == [.bool(true), .null])
        #expect(v["missing"] == nil && JSONValue.int(1)["b"] == nil)
    }

    @Test func stringsRoundTripThroughQuote() throws {
        for s in ["plain", "quote \" and \\ backslash", "tab\tnew\nline\r", "\u{1}\u{1f}", "é 中 🙂", ""] {
            #expect(try JSONValue.parse(JSONValue.quote(s)) == .string(s), "\(s)")
        }
        #expect(try JSONValue.parse(#""\u00e9\ud83d\ude42\/""#) == .string("é🙂/"))
        // The exact text: short escapes where JSON has them, \u00XX for other controls,
        // everything else (multi-byte UTF-8 included) as it is.
        #expect(JSONValue.quote("a\"b\\c\n\r\t\u{0}\u{1f}é🙂") == #""a\"b\\c\n\r\t\u0000\u001fé🙂""#)
        let nested = JSONValue.object([("k", .array([.int(-3), .double(0.5), .bool(false), .null, .string("x\n")])), ("", .object([]))])
        #expect(nested.serialized == #"{"k":[-3,0.5,false,null,"x\n"],"":{}}"#)
        #expect(try JSONValue.parse(nested.serialized) == nested)
    }

    @Test func errorsSayWhere() {
        func error(_ text: String) -> JSONError? {
            do { _ = try JSONValue.parse(text); return nil } catch { return error }
        }
        let e = error("{\n  \"a\": 1,\n  \"b\": tru\n}")
        #expect(e?.line == 3 && e?.column == 8, "\(String(describing: e))")
        #expect(error("[1, 2") != nil)
        #expect(error("{} extra")?.message.contains("after the top-level value") == true)
        // A lone surrogate becomes U+FFFD, as other decoders do.
        #expect((try? JSONValue.parse(#""\ud800""#)) == .string("\u{FFFD}"))
        #expect(error(String(repeating: "[", count: 200) + String(repeating: "]", count: 200))?.message.contains("nesting") == true)
        #expect(error("01") != nil && error("1.") != nil && error("-") != nil)
    }
}
