import Foundation
import Testing
import NSIRuntime

/// Sampled tokens follow the distribution the options specify, as transformers applies
/// them: softmax of logits / temperature, then the k most likely, then the smallest set
/// of most likely tokens whose mass reaches top_p, renormalised. The expected
/// probabilities are computed here in double precision, apart from the sampler; 40,000
/// seeded draws per case must land within 5 standard deviations of each (tokens expected
/// fewer than 20 times: at most 10 times their expectation), and no token outside the
/// kept set may appear.
@Suite struct SamplingDistributionTests {
    /// Twelve logits, not in sorted order, with one tie.
    static let logits: [Float] = [0.3, 2.0, -1.0, 1.2, -3.0, 1.5, 0.0, 0.7, -0.5, 1.0, -2.0, 0.7]
    static let draws = 40_000

    struct Case: Sendable, CustomTestStringConvertible {
        let temperature: Double, topK: Int?, topP: Double?
        var testDescription: String { "temperature \(temperature), top_k \(topK.map(String.init) ?? "-"), top_p \(topP.map { "\($0)" } ?? "-")" }
    }

    static let cases = [
        Case(temperature: 1, topK: nil, topP: nil),
        Case(temperature: 0.5, topK: nil, topP: nil),
        Case(temperature: 1.7, topK: 4, topP: nil),
        Case(temperature: 1, topK: nil, topP: 0.8),
        Case(temperature: 0.8, topK: 6, topP: 0.6),
    ]

    /// The specification, independently: per token, its probability of being drawn.
    static func expected(_ c: Case) -> [Double] {
        let n = logits.count
        let scaled = logits.map { Double($0) / c.temperature }
        let top = scaled.max()!
        var p = scaled.map { exp($0 - top) }
        let z = p.reduce(0, +)
        p = p.map { $0 / z }
        // Most likely first; ties by index.
        var order = Array(0..<n).sorted { (p[$0], -$0) > (p[$1], -$1) }
        if let k = c.topK { order = Array(order.prefix(k)) }
        var kept = order.map { p[$0] }
        let kz = kept.reduce(0, +)
        kept = kept.map { $0 / kz }
        var count = kept.count
        if let q = c.topP {
            // Token j stays when the mass of the tokens before it is below q.
            var mass = 0.0
            count = 0
            for pr in kept where count == 0 || mass < q { mass += pr; count += 1 }
        }
        let keptMass = kept.prefix(count).reduce(0, +)
        var out = Array(repeating: 0.0, count: n)
        for (i, token) in order.prefix(count).enumerated() { out[token] = kept[i] / keptMass }
        return out
    }

    @Test(arguments: cases)
    func drawsFollowTheSpecifiedDistribution(_ c: Case) {
        let want = Self.expected(c)
        var sampler = Sampler(options: SamplingOptions(maxTokens: 1, temperature: c.temperature, topK: c.topK, topP: c.topP, seed: 2026))
        var counts = Array(repeating: 0, count: Self.logits.count)
        Self.logits.withUnsafeBufferPointer { buffer in
            for _ in 0..<Self.draws { counts[sampler.next(buffer)] += 1 }
        }
        var worst = 0.0
        for (token, p) in want.enumerated() {
            let freq = Double(counts[token]) / Double(Self.draws)
            if p == 0 {
                #expect(counts[token] == 0, "\(c.testDescription): token \(token) is outside the kept set but was drawn \(counts[token]) times")
                continue
            }
            let mean = p * Double(Self.draws)
            if mean < 20 {
                // Too rare for the normal approximation: a loose bound on the count.
                #expect(Double(counts[token]) <= 10 * max(1, mean), "\(c.testDescription): token \(token) drawn \(counts[token]) times, expected \(mean)")
                continue
            }
            let sigma = (p * (1 - p) / Double(Self.draws)).squareRoot()
            let z = abs(freq - p) / sigma
            worst = max(worst, z)
            #expect(z <= 5, "\(c.testDescription): token \(token) drawn with frequency \(freq), specified \(p) (\(z) sigma)")
        }
        print("sampling, \(c.testDescription): \(want.filter { $0 > 0 }.count) tokens kept, largest deviation \(String(format: "%.2f", worst)) sigma over \(Self.draws) draws")
    }

    /// Different seeds draw different sequences; the same seed the same one.
    @Test func seedsChooseTheSequence() {
        func sequence(_ seed: UInt64) -> [Int] {
            var s = Sampler(options: SamplingOptions(temperature: 1, seed: seed))
            return Self.logits.withUnsafeBufferPointer { b in (0..<64).map { _ in s.next(b) } }
        }
        #expect(sequence(1) == sequence(1))
        #expect(sequence(1) != sequence(2))
    }
}
