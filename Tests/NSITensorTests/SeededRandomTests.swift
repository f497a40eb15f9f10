import Foundation
import Testing
import NSITensor
import NSITestSupport

/// nsi's generator against the recipe written again in numpy (Samples/nnsight/seeded_random.py,
/// which wrote Tests/Fixtures/random/reference.json): uniform draws and integers equal, normal
/// draws within one f32 step (each is computed in double with libm's `log` and `cos`, which
/// may differ in the last double bit between C libraries, and rounded once to f32).
struct SeededRandomTests {
    @Test func drawsMatchTheIndependentRecipe() throws {
        let (cases, _) = try Fixtures.randomReference()
        #expect(cases.count >= 16)
        var worstNormal: Float = 0
        for c in cases {
            let d: RandomDistribution = c.fn == "randn" ? .normal : c.fn == "rand" ? .uniform : .integers(low: c.low, high: c.high)
            let t = SplitMix.tensor(c.shape, d, seed: UInt64(bitPattern: c.seed))
            #expect(t.shape == c.shape)
            switch d {
            case .integers:
                #expect(t.dtype == .i64)
                #expect(t.toInt64s() == c.values.map { Int64($0) }, "\(c.fn) seed \(c.seed)")
            case .uniform:
                #expect(t.toFloats() == c.values.map { Float($0) }, "\(c.fn) seed \(c.seed)")
            case .normal:
                #expect(t.count == c.values.count, "randn seed \(c.seed): \(t.count) values, \(c.values.count) in the reference")
                for (a, b) in zip(t.toFloats(), c.values.map { Float($0) }) {
                    worstNormal = max(worstNormal, difference(a, b))
                    #expect(abs(a - b) <= b.ulp, "randn seed \(c.seed): \(a) vs \(b)")
                }
            }
        }
        print("seeded random: \(cases.count) draws agree with the numpy recipe; normal max difference \(worstNormal) (tolerance one f32 step)")
    }

    /// The draws have the moments of their distributions (a recipe bug such as a wrong shift
    /// would show here even if both implementations shared it).
    @Test func drawsHaveTheirDistributions() {
        let n = SplitMix.tensor([100_000], .normal, seed: 3).toFloats().map(Double.init)
        let mean = n.reduce(0, +) / Double(n.count)
        let variance = n.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n.count)
        #expect(abs(mean) < 0.01 && abs(variance - 1) < 0.02, "normal: mean \(mean), variance \(variance)")
        let u = SplitMix.tensor([100_000], .uniform, seed: 3).toFloats()
        #expect(u.allSatisfy { $0 >= 0 && $0 < 1 })
        let um = u.map(Double.init).reduce(0, +) / Double(u.count)
        #expect(abs(um - 0.5) < 0.005, "uniform: mean \(um)")
        let k = SplitMix.tensor([100_000], .integers(low: -3, high: 4), seed: 3).toInt64s()
        let counts = Dictionary(grouping: k, by: { $0 }).mapValues(\.count)
        #expect(Set(counts.keys) == Set(-3...3))
        #expect(counts.values.allSatisfy { abs($0 - 100_000 / 7) < 600 }, "integers: \(counts)")
        // Different seeds give different streams; one seed the same stream.
        #expect(SplitMix.tensor([8], .normal, seed: 1).toFloats() != SplitMix.tensor([8], .normal, seed: 2).toFloats())
        #expect(SplitMix.tensor([8], .normal, seed: 1).toFloats() == SplitMix.tensor([8], .normal, seed: 1).toFloats())
    }
}

extension SeededRandomTests {
    /// A range wider than Int64.max draws without overflow, inside the range.
    @Test func theWidestRangesDoNotOverflow() {
        let t = SplitMix.tensor([1000], .integers(low: Int.min, high: Int.max), seed: 9).toInt64s()
        #expect(t.contains { $0 < 0 } && t.contains { $0 > 0 })
        #expect(!t.contains(Int64.max))
        let narrow = SplitMix.tensor([100], .integers(low: Int.max - 2, high: Int.max), seed: 9).toInt64s()
        #expect(narrow.allSatisfy { $0 == Int64.max - 2 || $0 == Int64.max - 1 })
    }
}
