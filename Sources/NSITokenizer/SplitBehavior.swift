/// What a split does with the pieces a pattern matches ("delimiters") and the text between
/// them, as tokenizer.json's `behavior` names it.
enum SplitBehavior: String, Sendable, CaseIterable {
    case removed = "Removed"
    case isolated = "Isolated"
    case mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext"
    case contiguous = "Contiguous"

    /// Cuts `range` given the pattern's matches inside it (sorted, non-overlapping),
    /// after `invert` swaps the roles of matches and the text between them.
    func apply(to range: Range<Int>, matches: [Range<Int>], invert: Bool) -> [Range<Int>] {
        var spans: [(range: Range<Int>, isMatch: Bool)] = []
        var cursor = range.lowerBound
        for m in matches {
            if m.lowerBound > cursor { spans.append((cursor..<m.lowerBound, invert)) }
            if !m.isEmpty { spans.append((m, !invert)) }
            cursor = m.upperBound
        }
        if cursor < range.upperBound { spans.append((cursor..<range.upperBound, invert)) }

        switch self {
        case .isolated:
            return spans.map(\.range)
        case .removed:
            return spans.filter { !$0.isMatch }.map(\.range)
        case .mergedWithPrevious:
            // A delimiter joins the piece before it, unless that piece was itself a delimiter.
            var out: [Range<Int>] = []
            var previousWasMatch = false
            for span in spans {
                if span.isMatch && !previousWasMatch, let last = out.last {
                    out[out.count - 1] = last.lowerBound..<span.range.upperBound
                } else {
                    out.append(span.range)
                }
                previousWasMatch = span.isMatch
            }
            return out
        case .mergedWithNext:
            // The mirror image: a delimiter joins the piece after it.
            var out: [Range<Int>] = []
            var nextWasMatch = false
            for span in spans.reversed() {
                if span.isMatch && !nextWasMatch, let last = out.last {
                    out[out.count - 1] = span.range.lowerBound..<last.upperBound
                } else {
                    out.append(span.range)
                }
                nextWasMatch = span.isMatch
            }
            return out.reversed()
        case .contiguous:
            // Consecutive delimiters form one piece.
            var out: [Range<Int>] = []
            var previousWasMatch = false
            for span in spans {
                if span.isMatch == previousWasMatch, let last = out.last {
                    out[out.count - 1] = last.lowerBound..<span.range.upperBound
                } else {
                    out.append(span.range)
                }
                previousWasMatch = span.isMatch
            }
            return out
        }
    }
}
