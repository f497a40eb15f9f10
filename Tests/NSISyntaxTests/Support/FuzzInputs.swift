import Foundation
import NSISource
import NSISyntax
import NSITestSupport


/// Makes fuzz inputs: mutated scripts from the corpus, token soups, random bytes, and
/// now and then deep nesting or a long line. Inputs stay small (most under 400 bytes)
/// so that 100,000 of them run in seconds.
struct FuzzInputs {
    /// Scripts to mutate, with the ranges of their tokens.
    let corpus: [(bytes: [UInt8], tokens: [SourceRange])]

    static let vocabulary: [String] = Keyword.allCases.map(\.rawValue) + [
        "(", ")", "[", "]", "{", "}", ",", ":", ";", ".", "...", "..<", "..", "=", "+=", "-=", "*=", "/=",
        "+", "-", "*", "/", "%", "@", "**", "==", "!=", "<", "<=", ">", ">=", "!", "&", "'",
        "x", "h", "layers", "output", "softmax", "_a1", "0", "1", "8", "2.5", "1e-3", "2.", ".5", "1_0",
        "99999999999999999999", "12abc", "\"s\"", "\"\\q\"", "\"\\u{110000}\"", "\"open", "'q'",
        "\n", "\n", "\n", " ", "\t", "# c\n", "é", "\u{FEFF}",
    ]

    init() {
        var corpus: [(bytes: [UInt8], tokens: [SourceRange])] = []
        var files = SyntaxFixtures.sampleNames.map { SyntaxFixtures.sample($0) }
        for folder in ["brief", "wellformed", "malformed", "golden/fmt", "golden/diagnostics"] {
            files += SyntaxFixtures.scripts(in: folder).map { SyntaxFixtures.source(folder, $0) }
        }
        for file in files where file.bytes.count < 20_000 {
            let tokens = Lexer.tokenize(file).tokens.map(\.range)
            corpus.append((file.bytes, tokens))
        }
        self.corpus = corpus
    }

    func make(_ rng: inout SplitMix64, iteration: Int) -> [UInt8] {
        if iteration % 500 == 499 { return deep(&rng) }
        if iteration % 500 == 249 { return long(&rng) }
        switch Int.random(in: 0..<10, using: &rng) {
        case 0..<6: return mutated(&rng)
        case 6..<9: return soup(&rng)
        default: return (0..<Int.random(in: 0...256, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        }
    }

    /// A window of a corpus script with a few token- and byte-level mutations.
    private func mutated(_ rng: inout SplitMix64) -> [UInt8] {
        let (source, tokens) = corpus.randomElement(using: &rng)!
        let first = Int.random(in: 0..<max(1, tokens.count), using: &rng)
        let count = Int.random(in: 1...64, using: &rng)
        let start = tokens.isEmpty ? 0 : tokens[first].start
        let end = tokens.isEmpty ? source.count : tokens[min(tokens.count - 1, first + count)].end
        var bytes = Array(source[start..<max(start, end)])
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            mutate(&bytes, &rng)
        }
        return bytes
    }

    private func mutate(_ bytes: inout [UInt8], _ rng: inout SplitMix64) {
        let position = Int.random(in: 0...bytes.count, using: &rng)
        switch Int.random(in: 0..<8, using: &rng) {
        case 0:   // delete a run
            let end = min(bytes.count, position + Int.random(in: 1...8, using: &rng))
            bytes.removeSubrange(position..<end)
        case 1:   // insert a token
            bytes.insert(contentsOf: Array(Self.vocabulary.randomElement(using: &rng)!.utf8), at: position)
        case 2:   // replace a byte with any byte
            if position < bytes.count { bytes[position] = UInt8.random(in: 0...255, using: &rng) }
        case 3:   // duplicate a run
            let end = min(bytes.count, position + Int.random(in: 1...40, using: &rng))
            bytes.insert(contentsOf: bytes[position..<end], at: position)
        case 4:   // swap two runs
            guard bytes.count > 4 else { return }
            let a = Int.random(in: 0..<bytes.count / 2, using: &rng)
            let b = Int.random(in: bytes.count / 2..<bytes.count, using: &rng)
            bytes.swapAt(a, b)
        case 5:   // splice in a piece of another script
            let other = corpus.randomElement(using: &rng)!.bytes
            let from = Int.random(in: 0...other.count, using: &rng)
            let to = min(other.count, from + Int.random(in: 1...60, using: &rng))
            bytes.insert(contentsOf: other[from..<to], at: position)
        case 6:   // insert a bracket or brace, unbalancing the text
            bytes.insert(Array("([{)]}".utf8).randomElement(using: &rng)!, at: position)
        default:  // truncate
            bytes.removeSubrange(position...)
        }
    }

    /// Random tokens with random spacing.
    private func soup(_ rng: inout SplitMix64) -> [UInt8] {
        var text = Int.random(in: 0..<3, using: &rng) == 0 ? "trace p {\n" : ""
        for _ in 0..<Int.random(in: 1...48, using: &rng) {
            text += Self.vocabulary.randomElement(using: &rng)!
            if Bool.random(using: &rng) { text += " " }
        }
        return Array(text.utf8)
    }

    /// Openers (sometimes closed) nested far past the limit.
    private func deep(_ rng: inout SplitMix64) -> [UInt8] {
        let openers = ["(", "[", "{", "{ if a ", "-", "not ", "a ** ", "f(", "x.", "a + ", "[1, ", "{ for i in x "]
        let opener = openers.randomElement(using: &rng)!
        let depth = Int.random(in: 200...1500, using: &rng)
        var text = "trace p { let x = " + String(repeating: opener, count: depth) + "1"
        if Bool.random(using: &rng) {
            let closer = opener.contains("{") ? " }" : opener.contains("[") ? "]" : ")"
            text += String(repeating: closer, count: Int.random(in: 0...depth, using: &rng))
        }
        return Array((text + " }\n").utf8)
    }

    /// One very long line of one kind.
    private func long(_ rng: inout SplitMix64) -> [UInt8] {
        let n = Int.random(in: 500...3000, using: &rng)
        let lines = [
            "trace p { let x = " + Array(repeating: "a", count: n).joined(separator: " + ") + " }",
            "trace p { let x = \"" + String(repeating: "z", count: n) + "\" }",
            "trace p { let " + String(repeating: "n", count: n) + " = 1 }",
            "trace p { " + String(repeating: "let a = 1; ", count: n / 10) + "}",
            "trace p { let x = f(" + String(repeating: "\n", count: n) + ") }",
            "trace p { let x = [" + String(repeating: "1, ", count: n) + "] }",
            String(repeating: "}", count: n),
            String(repeating: "$ ", count: n),
        ]
        return Array(lines.randomElement(using: &rng)!.utf8)
    }
}
