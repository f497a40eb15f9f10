import Testing
@testable import NSITokenizer

/// The hand-written scanners against splits that a backtracking regex engine gives for
/// the same patterns (worked out once and written down here).
@Suite struct PatternScannerTests {
    static func pieces(_ scanner: PatternScanner, _ text: String) -> [String] {
        let scalars = Array(text.unicodeScalars)[...]
        return scanner.matches(in: scalars).map { range in
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars[range])
            return String(view)
        }
    }

    static let llama3 = PatternScanner.llama3(maxDigits: 3)
    static let qwen2 = PatternScanner.llama3(maxDigits: 1)

    @Test func recognisesKnownPatternsExactly() {
        #expect(PatternScanner.forPattern(PatternScanner.gpt2Pattern) == .gpt2)
        #expect(PatternScanner.forPattern(HandmadeTokenizer.llama3Pattern) == Self.llama3)
        #expect(PatternScanner.forPattern(PatternScanner.qwen2Pattern) == Self.qwen2)
        #expect(PatternScanner.forPattern(PatternScanner.gpt2Pattern + "|x") == nil)
    }

    @Test func contractionsAndDigits() {
        #expect(Self.pieces(Self.llama3, "I'M 1234567 ok") == ["I", "'M", " ", "123", "456", "7", " ok"])
        #expect(Self.pieces(Self.qwen2, "I'M 1234567 ok") == ["I", "'M", " ", "1", "2", "3", "4", "5", "6", "7", " ok"])
        #expect(Self.pieces(.gpt2, "I'M 1234567 ok") == ["I", "'", "M", " 1234567", " ok"])
        #expect(Self.pieces(Self.llama3, "He'LL say 'sup") == ["He", "'LL", " say", " '", "sup"])
        #expect(Self.pieces(.gpt2, "He'LL say 'sup") == ["He", "'", "LL", " say", " '", "sup"])
        #expect(Self.pieces(Self.llama3, "3.14159") == ["3", ".", "141", "59"])
        #expect(Self.pieces(.gpt2, "3.14159") == ["3", ".", "14159"])
        #expect(Self.pieces(Self.llama3, "é٣٤٥٦ abc") == ["é", "٣٤٥", "٦", " abc"])
    }

    @Test func whitespaceAndLineBreaks() {
        #expect(Self.pieces(Self.llama3, "x  \n\n  y\t\tz") == ["x", "  \n\n", " ", " y", "\t", "\tz"])
        #expect(Self.pieces(.gpt2, "x  \n\n  y\t\tz") == ["x", "  \n\n ", " y", "\t", "\t", "z"])
        #expect(Self.pieces(Self.llama3, "(hello) [world]!!\n\n") == ["(hello", ")", " [", "world", "]!!\n\n"])
        #expect(Self.pieces(.gpt2, "(hello) [world]!!\n\n") == ["(", "hello", ")", " [", "world", "]!!", "\n\n"])
        #expect(Self.pieces(Self.llama3, "\"quoted\"\r\nnext") == ["\"quoted", "\"\r\n", "next"])
        #expect(Self.pieces(.gpt2, "\"quoted\"\r\nnext") == ["\"", "quoted", "\"", "\r", "\n", "next"])
        #expect(Self.pieces(Self.llama3, "don't\n\n\nwon't ") == ["don", "'t", "\n\n\n", "won", "'t", " "])
        #expect(Self.pieces(.gpt2, "don't\n\n\nwon't ") == ["don", "'t", "\n\n", "\n", "won", "'t", " "])
        #expect(Self.pieces(.gpt2, "  a") == [" ", " a"])
        #expect(Self.pieces(.gpt2, "a  ") == ["a", "  "])
        // No-break and ideographic spaces are whitespace too.
        #expect(Self.pieces(Self.llama3, "\u{A0}x\u{3000}y") == ["\u{A0}x", "\u{3000}y"])
        #expect(Self.pieces(.gpt2, "\u{A0}x\u{3000}y") == ["\u{A0}", "x", "\u{3000}", "y"])
    }

    @Test func splitBehaviors() {
        // Matches at 1..<2 and 2..<3 in 0..<5 ("a--bc" split on "-").
        let matches = [1..<2, 2..<3]
        #expect(SplitBehavior.isolated.apply(to: 0..<5, matches: matches, invert: false) == [0..<1, 1..<2, 2..<3, 3..<5])
        #expect(SplitBehavior.removed.apply(to: 0..<5, matches: matches, invert: false) == [0..<1, 3..<5])
        #expect(SplitBehavior.mergedWithPrevious.apply(to: 0..<5, matches: matches, invert: false) == [0..<2, 2..<3, 3..<5])
        #expect(SplitBehavior.mergedWithNext.apply(to: 0..<5, matches: matches, invert: false) == [0..<1, 1..<2, 2..<5])
        #expect(SplitBehavior.contiguous.apply(to: 0..<5, matches: matches, invert: false) == [0..<1, 1..<3, 3..<5])
        #expect(SplitBehavior.removed.apply(to: 0..<5, matches: matches, invert: true) == [1..<2, 2..<3])
    }
}
