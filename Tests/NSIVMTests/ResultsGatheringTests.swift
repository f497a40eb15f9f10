import Testing
import NSITensor
import NSIVM

/// The results file writes an indexed name over a full grid once more as one tensor.
@Suite struct ResultsGatheringTests {
    func t(_ v: Float, _ shape: [Int] = [2]) -> Tensor { Tensor(shape: shape, floats: [Float](repeating: v, count: shape.reduce(1, *))) }

    @Test func fullGridsAreStackedInIndexOrder() {
        var saved: [(String, Tensor)] = []
        for l in 0..<3 { for p in 0..<2 { saved.append(("grid.\(l).\(p)", t(Float(10 * l + p)))) } }
        saved += [("lens.1", t(1)), ("lens.0", t(0)),                      // out of order: stacked by index
                  ("gap.0", t(0)), ("gap.2", t(2)),                        // not 0..<n: left as keys
                  ("odd.0", t(0)), ("odd.1", t(1, [3])),                    // shapes differ
                  ("both", t(9)), ("both.0", t(0)),                         // the name is a key itself
                  ("top.values", t(5))]
        let g = Dictionary(uniqueKeysWithValues: ResultsFile.gathered(saved))
        #expect(Set(g.keys) == ["grid", "lens"])
        #expect(g["grid"]?.shape == [3, 2, 2])
        #expect(g["grid"]?.toFloats() == [0, 0, 1, 1, 10, 10, 11, 11, 20, 20, 21, 21])
        #expect(g["lens"]?.toFloats() == [0, 0, 1, 1])
    }
}
