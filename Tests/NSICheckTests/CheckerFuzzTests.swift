import Foundation
import Testing
import NSICheck
import NSISource
import NSISyntax
import NSITestSupport

/// The checker on mutated scripts (tokens deleted, duplicated, swapped, numbers changed):
/// whatever parses is checked, and nothing may crash. `NSI_FUZZ_ITERATIONS` runs longer.
@Suite struct CheckerFuzzTests {
    static let iterations = Int(ProcessInfo.processInfo.environment["NSI_FUZZ_ITERATIONS"] ?? "") ?? 3_000

    @Test func mutatedScriptsNeverCrashTheChecker() throws {
        let sources = (Fixtures.files(in: Fixtures.repository.appendingPathComponent("Samples").path)
            + Fixtures.files(in: Fixtures.own("failing")))
            .map { try! String(contentsOf: $0, encoding: .utf8) }
        let signature = try Fixtures.signature("smollm2-135m")
        let replacements = ["0", "1", "-1", "29", "30", "576", "model", "layers", "output", "[", "]", "(", ")", ":", ",",
                            "+", "*", "@", "invoke", "step", "each step", "save x =", "let y =", "skip", "result.ids",
                            "for i in 0..<3 {", "}", "if", "tok(\" a\")", ".softmax(-1)", ".topk(3)", "...", "1.5", "\"p\""]
        var state: UInt64 = 0x5EED
        func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(max(n, 1)))
        }
        var checked = 0
        for _ in 0..<Self.iterations {
            var words = sources[next(sources.count)].split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            for _ in 0..<(1 + next(3)) where !words.isEmpty {
                let i = next(words.count)
                switch next(4) {
                case 0: words.remove(at: i)
                case 1: words.insert(words[i], at: i)
                case 2: words[i] = replacements[next(replacements.count)]
                default: words.swapAt(i, next(words.count))
                }
            }
            let parsed = Parser.parse(SourceFile(path: "fuzz.nsi", text: words.joined(separator: " ")))
            guard !parsed.hasErrors else { continue }
            let result = Checker.check(parsed, signature: signature, baseDirectory: Fixtures.own("failing"))
            #expect(result.program != nil || result.hasErrors)
            checked += 1
        }
        print("checker fuzz: \(Self.iterations) mutations, \(checked) parsed and were checked without a crash")
        #expect(checked > Self.iterations / 10)
    }
}
