import Crypto
import Foundation
import Testing
import NSITensor
import NSIModel
@testable import NSIRuntime
import NSITestSupport

/// The real model, when Scripts/fetch-model has produced models/smollm2-135m (CI fetches it).
/// Reference: transformers, float32, eager attention (Tests/Fixtures/smollm2-135m/logits.json).
@Suite(.enabled(if: Fixtures.modelDirectory != nil, "models/smollm2-135m not fetched (run Scripts/fetch-model)"))
struct SmolLM2Tests {
    struct Case: Decodable {
        let prompt: String
        let ids: [Int]
        let last_top20_ids: [Int]
        let last_top20_logits: [Float]
        let logits_row_mean: [Float]
        let logits_row_std: [Float]
        let greedy16_ids: [Int]
    }
    struct Reference: Decodable { let cases: [Case] }

    static func reference(_ file: String = "logits.json") throws -> [Case] {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("smollm2-135m/\(file)")))
        return try JSONDecoder().decode(Reference.self, from: data).cases
    }

    var model: Transformer { get throws { try ModelCache.shared.model(Fixtures.modelDirectory!) } }

    @Test func everyTensorHasTheReferenceSHA256() throws {
        struct Entry: Decodable { let shape: [Int]; let sha256_f32_le: String }
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("smollm2-135m/tensors.json")))
        let expected = try JSONDecoder().decode([String: Entry].self, from: data)
        let archive = try SafetensorsArchive(directory: Fixtures.modelDirectory!)
        #expect(Set(archive.names) == Set(expected.keys))
        var matched = 0
        for (name, e) in expected {
            let t = try archive.tensor(name)
            #expect(t.dtype == .f32 && t.shape == e.shape, "\(name)")
            let bytes = UnsafeRawBufferPointer(start: t.storage.base + t.offset * 4, count: t.count * 4)
            let digest = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
            if digest == e.sha256_f32_le { matched += 1 } else { Issue.record("\(name): sha256 \(digest), expected \(e.sha256_f32_le)") }
        }
        print("smollm2: \(matched)/\(expected.count) tensors match their SHA-256")
    }

    @Test func logitsMatchTransformers() throws {
        try Self.checkLogits(try model, try Self.reference(), label: "smollm2")
    }

    /// Top-20 ids at the last position equal; top-20 logits and every row's mean and
    /// standard deviation within 1e-3.
    static func checkLogits(_ model: Transformer, _ cases: [Case], label: String) throws {
        for c in cases {
            let (out, _) = try model.trace(prompts: [c.ids])
            let logits = try #require(out).select(dim: 0, index: 0)           // [T, vocab]
            let last = logits.select(dim: 0, index: -1)
            let (values, indices) = last.topk(20)
            #expect(indices.toInts() == c.last_top20_ids, "\(c.prompt)")
            let topDiff = maxAbsDiff(values.toFloats(), c.last_top20_logits)
            let means = logits.mean(dim: -1).toFloats()
            let centered = logits - logits.mean(dim: -1, keepdim: true)
            let n = Float(logits.shape[1])
            let stds = (centered * centered).sum(dim: -1).toFloats().map { ($0 / (n - 1)).squareRoot() }
            let meanDiff = maxAbsDiff(means, c.logits_row_mean), stdDiff = maxAbsDiff(stds, c.logits_row_std)
            print("\(label) \"\(c.prompt.prefix(24))\": top-20 logits max diff \(topDiff), row mean \(meanDiff), row std \(stdDiff) (tolerance 1e-3)")
            #expect(topDiff <= 1e-3)
            #expect(meanDiff <= 1e-3)
            #expect(stdDiff <= 1e-3)
        }
    }

    /// SmolLM2 stored in bf16 (nsi's writer rounds to nearest even, as Scripts/convert-model
    /// does) and read at that width: against transformers computing in f32 on the same bf16
    /// weights (Tests/Fixtures/smollm2-135m/logits-bf16.json).
    @Test func bf16StoredWeightsMatchTransformersOnTheSameWeights() throws {
        let src = Fixtures.modelDirectory!
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nsi-smollm2-bf16-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for file in ["config.json", "generation_config.json"] where FileManager.default.fileExists(atPath: src + "/" + file) {
            try FileManager.default.copyItem(atPath: src + "/" + file, toPath: dir + "/" + file)
        }
        let f32 = try SafetensorsArchive(directory: src)
        try SafetensorsWriter.write(try f32.names.map { ($0, try f32.tensor($0)) }, to: dir + "/model.safetensors", storeAs: .bf16)
        let model = try Transformer(directory: dir)
        #expect(model.weights.embed.dtype == .bf16 && model.weights.layers[0].q!.weight.dtype == .bf16,
                "linear and embedding weights stay at their stored width")
        try Self.checkLogits(model, try Self.reference("logits-bf16.json"), label: "smollm2 bf16")
        for c in try Self.reference("logits-bf16.json") {
            let r = try model.generate(prompts: [c.ids], options: SamplingOptions(maxTokens: 16, stopAtEOS: false))
            #expect(r.generated[0] == c.greedy16_ids, "\(c.prompt)")
        }
    }

    @Test func greedyGenerationMatchesTransformers() throws {
        let model = try model
        for c in try Self.reference() {
            let r = try model.generate(prompts: [c.ids], options: SamplingOptions(maxTokens: 16, stopAtEOS: false))
            #expect(r.generated[0] == c.greedy16_ids, "\(c.prompt)")
        }
    }

    @Test func batchedPromptsMatchSingleRuns() throws {
        let model = try model
        let cases = try Self.reference()
        let (batched, _) = try model.trace(prompts: cases.map(\.ids))
        let all = try #require(batched)
        var worst: Float = 0
        for (r, c) in cases.enumerated() {
            let (alone, _) = try model.trace(prompts: [c.ids])
            worst = max(worst, maxAbsDiff(all.select(dim: 0, index: r).select(dim: 0, index: -1).toFloats(),
                                          try #require(alone).select(dim: 1, index: -1).toFloats()))
        }
        print("smollm2: batched vs single last-position logits, max difference \(worst) (tolerance 1e-4)")
        #expect(worst <= 1e-4)
    }
}
