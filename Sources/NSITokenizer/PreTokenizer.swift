/// Cuts text into the words BPE works on, as a list of steps applied in order to every
/// piece the previous steps produced. The byte-level mapping itself happens in the
/// model; here ByteLevel contributes only its prefix space and its GPT-2 split.
struct PreTokenizer: Sendable {
    enum Step: Sendable {
        /// `Split` with one of the known regexes.
        case split(PatternScanner, SplitBehavior, invert: Bool)
        /// `Split` with a literal string pattern.
        case splitLiteral([Unicode.Scalar], SplitBehavior, invert: Bool)
        /// `Digits`: each digit alone, or runs of digits, as pieces.
        case digits(individual: Bool)
        /// `ByteLevel`: an optional leading space, then (with `use_regex`) the GPT-2 split.
        case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
    }

    let steps: [Step]

    /// The words of one stretch of text (between added tokens), in order.
    func split(_ text: ArraySlice<Unicode.Scalar>) -> [ArraySlice<Unicode.Scalar>] {
        var pieces = [text]
        for step in steps {
            var next: [ArraySlice<Unicode.Scalar>] = []
            next.reserveCapacity(pieces.count)
            for piece in pieces {
                apply(step, to: piece, into: &next)
            }
            pieces = next
        }
        return pieces.filter { !$0.isEmpty }
    }

    private func apply(_ step: Step, to piece: ArraySlice<Unicode.Scalar>, into out: inout [ArraySlice<Unicode.Scalar>]) {
        switch step {
        case .split(let scanner, let behavior, let invert):
            let ranges = behavior.apply(to: piece.indices, matches: scanner.matches(in: piece), invert: invert)
            for r in ranges { out.append(piece[r]) }
        case .splitLiteral(let literal, let behavior, let invert):
            let ranges = behavior.apply(to: piece.indices, matches: PreTokenizer.occurrences(of: literal, in: piece), invert: invert)
            for r in ranges { out.append(piece[r]) }
        case .digits(let individual):
            let digitRuns = PreTokenizer.digitMatches(in: piece)
            let behavior: SplitBehavior = individual ? .isolated : .contiguous
            for r in behavior.apply(to: piece.indices, matches: digitRuns, invert: false) { out.append(piece[r]) }
        case .byteLevel(let addPrefixSpace, let useRegex):
            var text = piece
            // Like the reference, an empty piece gets no space: there is nothing to prefix.
            if addPrefixSpace, let first = piece.first, first != " " {
                var prefixed: [Unicode.Scalar] = [" "]
                prefixed.append(contentsOf: piece)
                text = prefixed[...]
            }
            if useRegex {
                for r in PatternScanner.gpt2.matches(in: text) { out.append(text[r]) }
            } else {
                out.append(text)
            }
        }
    }

    /// Non-overlapping occurrences of `literal`, leftmost first.
    static func occurrences(of literal: [Unicode.Scalar], in s: ArraySlice<Unicode.Scalar>) -> [Range<Int>] {
        guard let first = literal.first else { return [] }
        var out: [Range<Int>] = []
        var i = s.startIndex
        while i + literal.count <= s.endIndex {
            if s[i] == first && s[i..<(i + literal.count)].elementsEqual(literal) {
                out.append(i..<(i + literal.count))
                i += literal.count
            } else {
                i += 1
            }
        }
        return out
    }

    /// Each numeric character as its own match; `Contiguous` then joins neighbours when
    /// digits are not individual.
    static func digitMatches(in s: ArraySlice<Unicode.Scalar>) -> [Range<Int>] {
        s.indices.filter { ScalarClass.isNumber(s[$0]) }.map { $0..<($0 + 1) }
    }
}
