import Foundation
import Testing
import NSIRuntime
import NSITensor
import NSIVM
import NSITestSupport

/// `model.attention_mask` marks the left padding of an invoke's rows: with it, a mean over
/// positions of a ragged batch is the mean of the short prompt alone.
@Suite struct AttentionMaskTests {
    @Test(arguments: Fixtures.tinyModels)
    func maskedMeanIsTheMeanAlone(family: String) throws {
        let dir = Fixtures.path("tiny/\(family)")
        let vm = VM(model: try LanguageModel(directory: dir))
        let r = try vm.run(try compile("""
        trace {
            invoke [1, 2, 3, 4, 9] { save m1 = model.attention_mask }
            invoke [5, 6] {
                let m = model.attention_mask
                let w = m.float().unsqueeze(-1)
                save m2 = m
                save mean = (model.layers[1].output * w).sum(1)[0] / w.sum()
            }
        }
        trace [5, 6] { save alone = model.layers[1].output[0].mean(0) }
        """, model: dir))
        let m1 = try #require(r.value("m1")?.tensor), m2 = try #require(r.value("m2")?.tensor)
        #expect(m1.dtype == .i64 && m1.shape == [1, 5] && m1.toInt64s() == [1, 1, 1, 1, 1])
        #expect(m2.dtype == .i64 && m2.shape == [1, 5] && m2.toInt64s() == [0, 0, 0, 1, 1])
        let mean = try #require(r.value("mean")?.tensor).toFloats(), alone = try #require(r.value("alone")?.tensor).toFloats()
        let d = maxAbsDiff(mean, alone)
        #expect(mean.count == alone.count && d <= 1e-5, "\(family): masked mean differs from the prompt alone by \(d) (tolerance 1e-5)")
        print("\(family): masked mean over a left-padded row = the row alone within \(d) (tolerance 1e-5)")
    }
}
