import Foundation
import Testing
import NSITensor
import NSIRuntime
import NSITestSupport

/// Scripts/convert-model and Scripts/make-synthetic-model (Python with numpy), run on
/// real folders and loaded by the runtime.
@Suite(.enabled(if: Host.hasNumpy || Host.required("numpy"), "python3 with numpy not found"))
struct ModelScriptTests {
    static let tiny = Host.repository + "/Tests/Fixtures/tiny/tiny-llama3"
    static let ids = [5, 17, 300, 42, 7, 99, 256, 3, 1, 480, 64, 12]

    func lastLogits(_ dir: String) throws -> (Transformer, [Float]) {
        let model = try Transformer(directory: dir)
        let logits = try #require(try model.trace(prompts: [Self.ids]).0)
        return (model, logits.select(dim: 1, index: -1).toFloats())
    }

    /// bf16 from the script equals bf16 from nsi's own writer (both round to nearest even):
    /// the same logits, bit for bit; f16 loads at its width and stays near the f32 logits.
    @Test func convertedFoldersLoadAtTheirStoredWidth() throws {
        try #require(Host.hasNumpy, "NSI_TEST_REQUIRE names numpy, but python3 cannot import it (Scripts/setup installs python3-numpy)")
        let dir = try Host.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Host.run(Host.repository + "/Scripts/convert-model", [Self.tiny, dir + "/bf16", "--dtype", "bf16"])
        try Host.run(Host.repository + "/Scripts/convert-model", [Self.tiny, dir + "/f16", "--dtype", "f16"])

        try FileManager.default.createDirectory(atPath: dir + "/own", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.tiny + "/config.json", toPath: dir + "/own/config.json")
        let f32 = try SafetensorsFile(path: Self.tiny + "/model.safetensors")
        try SafetensorsWriter.write(try f32.names.map { ($0, try f32.tensor($0)) }, to: dir + "/own/model.safetensors", storeAs: .bf16)

        let (script, bf16) = try lastLogits(dir + "/bf16")
        let (_, own) = try lastLogits(dir + "/own")
        #expect(script.weights.embed.dtype == .bf16 && script.weights.layers[0].down.weight.dtype == .bf16)
        #expect(bf16.map(\.bitPattern) == own.map(\.bitPattern), "the script's bf16 differs from nsi's writer")

        let (half, f16) = try lastLogits(dir + "/f16")
        let (_, reference) = try lastLogits(Self.tiny)
        #expect(half.weights.lmHead.dtype == .f16)
        let d = maxAbsDiff(f16, reference)
        print("tiny-llama3 converted to f16 by Scripts/convert-model: max |logits - f32| = \(d)")
        #expect(d < 1e-2)

        // A second conversion into the same folder is refused without --force, and leaves it whole.
        #expect(throws: (any Error).self) { try Host.run(Host.repository + "/Scripts/convert-model", [Self.tiny, dir + "/bf16", "--dtype", "bf16"]) }
        #expect(try lastLogits(dir + "/bf16").1.map(\.bitPattern) == bf16.map(\.bitPattern))
    }

    /// A synthetic model in sharded bf16 loads, traces and generates finite logits.
    @Test func syntheticModelLoadsAndRuns() throws {
        try #require(Host.hasNumpy, "NSI_TEST_REQUIRE names numpy, but python3 cannot import it (Scripts/setup installs python3-numpy)")
        let dir = try Host.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Host.run(Host.repository + "/Scripts/make-synthetic-model",
                         ["--shape", "smollm2-135m", "--layers", "2", "--dtype", "bf16", "--out", dir + "/m", "--shard-size", "40MB"])
        #expect(FileManager.default.fileExists(atPath: dir + "/m/model.safetensors.index.json"))
        let (model, logits) = try lastLogits(dir + "/m")
        #expect(model.config.numLayers == 2 && model.config.hiddenSize == 576 && model.weights.embed.dtype == .bf16)
        #expect(logits.count == 49152 && logits.allSatisfy(\.isFinite))
        let generated = try model.generate(prompts: [Self.ids], options: SamplingOptions(maxTokens: 4, stopAtEOS: false))
        #expect(generated.generated[0].count == 4)
    }
}
