import Foundation
import Testing
import NSITensor
import NSIVM
import NSITestSupport

/// Every sample, run by the VM on SmolLM2, agrees with the same experiment written for
/// NNsight on transformers (Tests/Fixtures/nnsight, made by Samples/nnsight/run_all.py):
/// every saved tensor within 1e-3, relative to the value's magnitude where it exceeds 1
/// (SmolLM2's residual stream holds values near 22,500, where one f32 step is 0.002),
/// integer tensors (token ids, topk indices) equal. Probabilities (softmax outputs) are
/// also compared in log space, |log a - log b| <= 1e-3, where 1e-3 absolute would pass any
/// value of the many near 1e-15.
@Suite(.enabled(if: Fixtures.modelDirectory != nil, "models/smollm2-135m not fetched"))
struct NNsightAgreementTests {
    static let samples = ["logit_lens", "patching", "steering", "ablation", "mean_ablation",
                          "cache_residuals", "batched_trace", "attention_pattern", "causal_tracing",
                          "direct_logit_attribution", "induction_heads", "generate_then_trace"]
    /// Saves that hold probabilities, by sample: name prefixes.
    static let probabilities = ["logit_lens": ["p_paris"], "attention_pattern": ["pattern"],
                                 "causal_tracing": ["clean", "corrupted", "restore_"],
                                 "induction_heads": ["score"], "generate_then_trace": ["lens", "final"]]

    @Test(arguments: samples)
    func sampleMatchesNNsight(sample: String) throws {
        let text = try String(contentsOf: Fixtures.repository.appendingPathComponent("Samples/\(sample).nsi"), encoding: .utf8)
        let results = try run(text)
        let golden = try SafetensorsFile(path: Fixtures.path("nnsight/\(sample).safetensors"))
        let ours = Dictionary(uniqueKeysWithValues: ResultsFile.tensors(results))
        let wholes = wholeIndexedNames(ours, reference: golden.names)
        #expect(Set(ours.keys).subtracting(wholes) == Set(golden.names), "keys differ: \(Set(ours.keys).subtracting(wholes).symmetricDifference(golden.names))")
        var worst: Float = 0, worstLog: Float = 0
        for name in golden.names {
            guard let mine = ours[name] else { continue }
            let ref = try golden.tensor(name)
            #expect(mine.shape == ref.shape, "\(name): shape \(mine.shape) vs \(ref.shape)")
            guard mine.shape == ref.shape else { continue }
            if ref.dtype.isInteger {
                #expect(mine.toInt64s() == ref.toInt64s(), "\(name): integers differ")
            } else {
                let diff = zip(mine.toFloats(), ref.toFloats()).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
                worst = max(worst, diff)
                #expect(diff <= 1e-3, "\(name): difference \(diff)")
                if Self.probabilities[sample]?.contains(where: { name.hasPrefix($0) }) == true {
                    var logWorst: Float = 0
                    for (a, b) in zip(mine.toFloats(), ref.toFloats()) where b > 0 {
                        #expect(a > 0, "\(name): probability \(a) where NNsight has \(b)")
                        logWorst = max(logWorst, abs(log(max(a, .leastNonzeroMagnitude)) - log(b)))
                    }
                    worstLog = max(worstLog, logWorst)
                    #expect(logWorst <= 1e-3, "\(name): log-probabilities differ by \(logWorst)")
                }
            }
        }
        print("\(sample): \(golden.names.count) saved tensors agree with NNsight, max difference \(worst) (tolerance 1e-3, relative above 1)"
              + (Self.probabilities[sample] == nil ? "" : "; probabilities in log space \(worstLog) (tolerance 1e-3)"))
    }
}
