/// Hand-written matchers for the split regexes that byte-level BPE tokenizers ship.
/// Every one of these patterns matches at any position, so a scanner only answers
/// "where does the match starting here end"; the answers reproduce leftmost-first
/// alternation with greedy quantifiers and backtracking, as Oniguruma runs them.
enum PatternScanner: Sendable, Equatable {
    /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
    case gpt2
    /// Llama 3 (`maxDigits` 3) and Qwen2 (`maxDigits` 1): case-insensitive contractions,
    /// letters with one leading non-letter, digit groups, punctuation with trailing line
    /// breaks, then whitespace.
    case llama3(maxDigits: Int)

    static let gpt2Pattern =
        #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    static let llama3Pattern =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2Pattern =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// The scanner for a pattern string exactly as it appears in tokenizer.json.
    static func forPattern(_ pattern: String) -> PatternScanner? {
        switch pattern {
        case gpt2Pattern: return .gpt2
        case llama3Pattern: return .llama3(maxDigits: 3)
        case qwen2Pattern: return .llama3(maxDigits: 1)
        default: return nil
        }
    }

    static let supportedDescription = "the GPT-2, Llama 3 and Qwen2 split patterns"

    /// The end of the match that starts at `i` (always greater than `i`).
    func matchEnd(in s: ArraySlice<Unicode.Scalar>, at i: Int) -> Int {
        switch self {
        case .gpt2: return PatternScanner.gpt2End(s, i)
        case .llama3(let maxDigits): return PatternScanner.llama3End(s, i, maxDigits: maxDigits)
        }
    }

    /// Splits `s` into consecutive matches.
    func matches(in s: ArraySlice<Unicode.Scalar>) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var i = s.startIndex
        while i < s.endIndex {
            let end = matchEnd(in: s, at: i)
            out.append(i..<end)
            i = end
        }
        return out
    }

    private static func gpt2End(_ s: ArraySlice<Unicode.Scalar>, _ i: Int) -> Int {
        if let end = contractionEnd(s, i, caseInsensitive: false) { return end }
        let c = s[i]
        // ` ?X+` for the three classes: the optional space only counts when X follows it.
        let start = (c == " " && i + 1 < s.endIndex) ? i + 1 : i
        let first = s[start]
        if ScalarClass.isLetter(first) { return run(s, from: start, while: ScalarClass.isLetter) }
        if ScalarClass.isNumber(first) { return run(s, from: start, while: ScalarClass.isNumber) }
        if ScalarClass.isOther(first) { return run(s, from: start, while: ScalarClass.isOther) }
        return whitespaceEnd(s, i)
    }

    private static func llama3End(_ s: ArraySlice<Unicode.Scalar>, _ i: Int, maxDigits: Int) -> Int {
        if let end = contractionEnd(s, i, caseInsensitive: true) { return end }
        let c = s[i]
        // `[^\r\n\p{L}\p{N}]?\p{L}+`
        if ScalarClass.isLetter(c) { return run(s, from: i, while: ScalarClass.isLetter) }
        if !ScalarClass.isLineBreak(c) && !ScalarClass.isNumber(c),
           i + 1 < s.endIndex, ScalarClass.isLetter(s[i + 1]) {
            return run(s, from: i + 1, while: ScalarClass.isLetter)
        }
        // `\p{N}{1,maxDigits}`
        if ScalarClass.isNumber(c) {
            var j = i + 1
            while j < s.endIndex, j - i < maxDigits, ScalarClass.isNumber(s[j]) { j += 1 }
            return j
        }
        // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
        let start = (c == " " && i + 1 < s.endIndex) ? i + 1 : i
        if ScalarClass.isOther(s[start]) {
            let end = run(s, from: start, while: ScalarClass.isOther)
            return run(s, from: end, while: ScalarClass.isLineBreak)
        }
        // `\s*[\r\n]+`: backtracking leaves the match ending after the run's last line break.
        let runEnd = run(s, from: i, while: ScalarClass.isWhitespace)
        var j = runEnd
        while j > i {
            if ScalarClass.isLineBreak(s[j - 1]) { return j }
            j -= 1
        }
        return whitespaceEnd(s, i)
    }

    /// `'s|'t|'re|'ve|'m|'ll|'d`, optionally under `(?i:...)`.
    private static func contractionEnd(_ s: ArraySlice<Unicode.Scalar>, _ i: Int, caseInsensitive: Bool) -> Int? {
        guard s[i] == "'", i + 1 < s.endIndex else { return nil }
        let a = folded(s[i + 1], caseInsensitive)
        if a == "s" || a == "t" || a == "m" || a == "d" { return i + 2 }
        guard i + 2 < s.endIndex else { return nil }
        let b = folded(s[i + 2], caseInsensitive)
        if (a == "r" && b == "e") || (a == "v" && b == "e") || (a == "l" && b == "l") { return i + 3 }
        return nil
    }

    /// Case folding as far as the contractions need it: ASCII, and the long s that folds to "s".
    @inline(__always)
    private static func folded(_ c: Unicode.Scalar, _ caseInsensitive: Bool) -> Unicode.Scalar {
        guard caseInsensitive else { return c }
        if c.value >= 0x41 && c.value <= 0x5A { return Unicode.Scalar(UInt8(c.value + 32)) }
        if c == "\u{017F}" { return "s" }
        return c
    }

    /// `\s+(?!\S)|\s+`: a whitespace run, less its last character when a non-space follows
    /// (so that character can lead the next word), unless that would leave nothing.
    private static func whitespaceEnd(_ s: ArraySlice<Unicode.Scalar>, _ i: Int) -> Int {
        let end = run(s, from: i, while: ScalarClass.isWhitespace)
        if end == s.endIndex || end - i <= 1 { return max(end, i + 1) }
        return end - 1
    }

    @inline(__always)
    private static func run(_ s: ArraySlice<Unicode.Scalar>, from i: Int, while test: (Unicode.Scalar) -> Bool) -> Int {
        var j = i
        while j < s.endIndex, test(s[j]) { j += 1 }
        return j
    }
}
