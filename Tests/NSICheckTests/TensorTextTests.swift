import Testing
import NSIIR
import NSITestSupport

/// Tensor params given as text (`--param x=[[1, 2], [3, 4]]`, the server's params, the
/// embedding APIs): shapes and values, refusals, and nesting no stack can hold.
@Suite struct TensorTextTests {
    @Test(arguments: [
        ("2.5", [Int](), [2.5]),
        ("[1, 2, 3]", [3], [1, 2, 3]),
        (" [ [1,2] ,\n[3,\t4] ] ", [2, 2], [1, 2, 3, 4]),
        ("[[[1], [2]], [[3], [4]], [[5], [6]]]", [3, 2, 1], [1, 2, 3, 4, 5, 6]),
        ("[-1e-3, +2, .5]", [3], [-0.001, 2, 0.5]),
        ("[]", [0], []),
        ("[[], []]", [2, 0], []),
        ("[[[]]]", [1, 1, 0], []),
    ] as [(String, [Int], [Double])])
    func wellFormedTextGivesItsShapeAndValues(text: String, shape: [Int], values: [Double]) throws {
        let parsed = try #require(parseTensorText(text), "\(text)")
        #expect(parsed.shape == shape && parsed.values == values, "\(text): \(parsed)")
    }

    @Test(arguments: [
        "", "[", "]", "[1, 2", "[1, 2]]", "[1 2]", "[1,]", "[,1]", "1, 2", "[1] [2]",
        "[[1, 2], [3]]", "[1, [2]]", "[[1], 2]", "[[1], []]", "[[], [1]]",
        "[nan]", "[inf]", "[1e999]", "[1e]", "[0x10]", "[\"1\"]", "{1}",
    ])
    func malformedTextIsRefused(text: String) {
        #expect(parseTensorText(text) == nil, "\(text)")
    }

    /// Nesting 100,000 deep: refused when malformed, read when well formed (a shape of
    /// 100,000 ones, which the param's declared rank then refuses), never a stack overflow.
    @Test func deepNestingNeitherRecursesNorCrashes() throws {
        let depth = 100_000
        let open = String(repeating: "[", count: depth), close = String(repeating: "]", count: depth)
        #expect(parseTensorText(open) == nil)
        #expect(parseTensorText(open + "1" + close.dropLast()) == nil)
        let deep = try #require(parseTensorText(open + "7" + close))
        #expect(deep.shape.count == depth && deep.shape.allSatisfy { $0 == 1 } && deep.values == [7])
    }

    /// Random texts of brackets, commas, numbers and spaces: the one-pass reader agrees
    /// with a plain recursive reading of the grammar on every one.
    @Test func agreesWithARecursiveReadingOnRandomTexts() {
        var rng = SplitMix64(seed: 34)
        let pieces = ["[", "]", ",", "1", "2.5", " ", "[", "]", ","]
        var agreed = 0, parsed = 0
        for _ in 0..<20_000 {
            let n = Int.random(in: 1...14, using: &rng)
            let text = (0..<n).map { _ in pieces.randomElement(using: &rng)! }.joined()
            let got = parseTensorText(text), want = Self.recursive(text)
            #expect(got?.shape == want?.shape && got?.values == want?.values, "\(text): \(String(describing: got)) vs \(String(describing: want))")
            if got?.shape == want?.shape && got?.values == want?.values { agreed += 1 }
            if want != nil { parsed += 1 }
        }
        print("tensor text: \(agreed) of 20000 random texts agree with the recursive reading (\(parsed) well formed)")
        #expect(parsed > 500)
    }

    /// The grammar read recursively (the test's reference; shallow inputs only).
    static func recursive(_ text: String) -> (shape: [Int], values: [Double])? {
        var s = Array(text.unicodeScalars)[...]
        func space() { while let c = s.first, c == " " { s.removeFirst() } }
        func value() -> (shape: [Int], values: [Double])? {
            space()
            guard let c = s.first else { return nil }
            if c == "[" {
                s.removeFirst()
                space()
                if s.first == "]" { s.removeFirst(); return ([0], []) }
                var items: [(shape: [Int], values: [Double])] = []
                while true {
                    guard let item = value() else { return nil }
                    if let first = items.first, first.shape != item.shape { return nil }
                    items.append(item)
                    space()
                    guard let next = s.first else { return nil }
                    s.removeFirst()
                    if next == "]" { break }
                    guard next == "," else { return nil }
                }
                return ([items.count] + items[0].shape, items.flatMap(\.values))
            }
            var number = ""
            while let d = s.first, "0123456789+-.eE".unicodeScalars.contains(d) { number.unicodeScalars.append(d); s.removeFirst() }
            guard let x = Double(number), x.isFinite else { return nil }
            return ([], [x])
        }
        guard let v = value() else { return nil }
        space()
        return s.isEmpty ? v : nil
    }
}
