/// One entry of tokenizer.json's `added_tokens`.
struct AddedToken: Sendable {
    let id: Int
    let content: String
    let singleWord: Bool
    let lstrip: Bool
    let rstrip: Bool
    let normalized: Bool
    let special: Bool
}

/// A stretch of input: either an added token already resolved to its id, or text that
/// still has to go through pre-tokenization and BPE.
enum TextSegment {
    case token(Int)
    case text(ArraySlice<Unicode.Scalar>)
}

/// Finds added tokens in text the way the reference implementation does: leftmost
/// match first, the longest token at that position, then the single-word and strip
/// rules. Candidates are indexed by first character since most positions start none.
struct AddedTokenMatcher: Sendable {
    private struct Pattern: Sendable {
        let scalars: [Unicode.Scalar]
        let token: AddedToken
    }

    /// Patterns by first character, longest first.
    private let byFirstScalar: [Unicode.Scalar: [Pattern]]

    /// `tokens` are matched on their content as given; pass normalized contents for
    /// tokens that match normalized text.
    init(_ tokens: [(pattern: String, token: AddedToken)]) {
        var index: [Unicode.Scalar: [Pattern]] = [:]
        for (pattern, token) in tokens {
            let scalars = Array(pattern.unicodeScalars)
            guard let first = scalars.first else { continue }
            index[first, default: []].append(Pattern(scalars: scalars, token: token))
        }
        byFirstScalar = index.mapValues { $0.sorted { $0.scalars.count > $1.scalars.count } }
    }

    var isEmpty: Bool { byFirstScalar.isEmpty }

    /// Splits `text` into added tokens and the text between them.
    func split(_ text: ArraySlice<Unicode.Scalar>) -> [TextSegment] {
        if isEmpty { return [.text(text)] }
        var out: [TextSegment] = []
        var textStart = text.startIndex
        var i = text.startIndex
        while i < text.endIndex {
            guard let candidates = byFirstScalar[text[i]],
                  let match = candidates.first(where: { matches($0.scalars, text, at: i) }) else {
                i += 1
                continue
            }
            var start = i
            var end = i + match.scalars.count
            let token = match.token
            if token.singleWord && !isSingleWord(text, start, end) {
                // The reference discards such a match rather than trying a shorter one.
                i = end
                continue
            }
            if token.lstrip {
                while start > textStart, ScalarClass.isWhitespace(text[start - 1]) { start -= 1 }
            }
            if token.rstrip {
                while end < text.endIndex, ScalarClass.isWhitespace(text[end]) { end += 1 }
            }
            if start > textStart { out.append(.text(text[textStart..<start])) }
            out.append(.token(token.id))
            textStart = end
            i = end
        }
        if textStart < text.endIndex { out.append(.text(text[textStart..<text.endIndex])) }
        return out
    }

    private func matches(_ pattern: [Unicode.Scalar], _ text: ArraySlice<Unicode.Scalar>, at i: Int) -> Bool {
        guard i + pattern.count <= text.endIndex else { return false }
        var k = 0
        while k < pattern.count {
            if text[i + k] != pattern[k] { return false }
            k += 1
        }
        return true
    }

    private func isSingleWord(_ text: ArraySlice<Unicode.Scalar>, _ start: Int, _ end: Int) -> Bool {
        let wordBefore = start > text.startIndex && ScalarClass.isWordCharacter(text[start - 1])
        let wordAfter = end < text.endIndex && ScalarClass.isWordCharacter(text[end])
        return !wordBefore && !wordAfter
    }
}
