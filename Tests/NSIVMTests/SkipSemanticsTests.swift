import Foundation
import Testing
import NSIRuntime
import NSITensor
import NSIVM
import NSITestSupport

/// `skip` removes a module's contribution in every family: a skipped attention or MLP is
/// exactly its output zero-ablated (a post-norm after it included), alone and when only
/// one invoke of a batch skips it; a skipped layer passes its input through.
@Suite struct SkipSemanticsTests {
    static let families = Fixtures.tinyModels

    @Test(arguments: families)
    func skipIsZeroAblation(family: String) throws {
        let dir = Fixtures.path("tiny/\(family)")
        let vm = VM(model: try LanguageModel(directory: dir))
        func logits(_ body: String) throws -> [Float] {
            let r = try vm.run(try compile("trace {\n\(body)\n}", model: dir))
            return try #require(r.value("l")?.tensor).toFloats()
        }
        let ids = "[5, 17, 42, 99, 7, 3]"
        var worst: Float = 0
        for module in ["attn", "mlp"] {
            let zeroed = try logits("invoke \(ids) {\n model.layers[1].\(module).output = 0\n save l = model.logits[0]\n}")
            let skipped = try logits("invoke \(ids) {\n skip model.layers[1].\(module)\n save l = model.logits[0]\n}")
            // Emulated: only the second invoke of the batch skips.
            let batched = try logits("invoke [1, 2, 3] { save other = model.logits[0] }\ninvoke \(ids) {\n skip model.layers[1].\(module)\n save l = model.logits[0]\n}")
            let plain = try logits("invoke \(ids) { save l = model.logits[0] }")
            let d1 = maxAbsDiff(skipped, zeroed)
            let d2 = maxAbsDiff(batched, zeroed)
            worst = max(worst, d1, d2)
            #expect(d1 <= 1e-5 && d2 <= 1e-4, "\(family) \(module): skip differs from zero-ablation by \(d1), batched by \(d2)")
            #expect(maxAbsDiff(skipped, plain) > 1e-4, "\(family) \(module): the skip changed nothing")
        }
        let layerSkipped = try logits("invoke \(ids) {\n skip model.layers[1]\n save l = model.logits[0]\n}")
        let passed = try logits("invoke \(ids) {\n model.layers[1].output = model.layers[0].output\n save l = model.logits[0]\n}")
        let d = maxAbsDiff(layerSkipped, passed)
        #expect(d <= 1e-5, "\(family): a skipped layer differs from passing its input through by \(d)")
        print("\(family): skip of attention and MLP = zero-ablation within \(worst), of a layer = its input within \(d) (tolerance 1e-5 alone, 1e-4 batched)")
    }
}
