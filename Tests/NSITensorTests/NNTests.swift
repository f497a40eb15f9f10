import Foundation
import Testing
@testable import NSITensor
import NSITestSupport

@Suite struct NNTests {
    @Test func rmsNormMatchesDefinition() {
        var rng = SeededRandom(seed: 11)
        let x = rng.tensor([3, 8]), w = rng.tensor([8])
        let got = x.rmsNorm(weight: w, eps: 1e-5).toFloats()
        let xv = x.toFloats(), wv = w.toFloats()
        var want = [Float]()
        for r in 0..<3 {
            let row = xv[(r * 8)..<(r * 8 + 8)].map(Double.init)
            let inv = 1 / (row.map { $0 * $0 }.reduce(0, +) / 8 + 1e-5).squareRoot()
            want += row.enumerated().map { Float($0.element * inv * Double(wv[$0.offset])) }
        }
        #expect(maxAbsDiff(got, want) < 1e-5)
    }

    @Test func layerNormMatchesDefinition() {
        var rng = SeededRandom(seed: 12)
        let x = rng.tensor([2, 6]), w = rng.tensor([6]), b = rng.tensor([6])
        let got = x.layerNorm(weight: w, bias: b, eps: 1e-5).toFloats()
        let xv = x.toFloats(), wv = w.toFloats(), bv = b.toFloats()
        var want = [Float]()
        for r in 0..<2 {
            let row = xv[(r * 6)..<(r * 6 + 6)].map(Double.init)
            let mean = row.reduce(0, +) / 6
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 6
            want += row.enumerated().map { Float(($0.element - mean) / (variance + 1e-5).squareRoot() * Double(wv[$0.offset]) + Double(bv[$0.offset])) }
        }
        #expect(maxAbsDiff(got, want) < 1e-5)
    }

    @Test func rotaryRotatesHalfPairs() {
        // One head of dim 4 at position 3 with frequencies [1, 0.5]: pairs (0,2) and (1,3) rotate.
        let x = Tensor(shape: [1, 1, 4], floats: [1, 2, 3, 4])
        let (c, s) = Rotary.tables(positions: [3], inverseFrequencies: [1, 0.5])
        Rotary.apply(x, cos: c, sin: s, tableRow: [0])
        let a0 = 3.0, a1 = 1.5
        let want: [Double] = [1 * cos(a0) - 3 * sin(a0), 2 * cos(a1) - 4 * sin(a1),
                              3 * cos(a0) + 1 * sin(a0), 4 * cos(a1) + 2 * sin(a1)]
        #expect(maxAbsDiff(x.toFloats(), want.map(Float.init)) < 1e-6)
    }
}
