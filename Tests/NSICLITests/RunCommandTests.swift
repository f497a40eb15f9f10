import Foundation
import Testing
import NSITensor
import NSISource
import NSISyntax
import NSICheck
import NSIModel
import NSIRuntime
import NSIVM
@testable import NSICLI
import NSITestSupport

/// The fetched SmolLM2 folder, or nil.
let fetchedModelDirectory = Fixtures.modelDirectory

/// `nsi run` on a script and on the plan compiled from it write the same results.
@Suite(.enabled(if: fetchedModelDirectory != nil, "models/smollm2-135m not fetched"))
struct RunCommandTests {
    static var modelDirectory: String? { fetchedModelDirectory }

    @Test func planAndScriptGiveTheSameResults() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nsi-run-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let script = Golden.testsRoot.deletingLastPathComponent().appendingPathComponent("Samples/ablation.nsi").path
        let model = Self.modelDirectory!
        let plan = dir + "/ablation.nsb"
        try CompileCommand.parse([script, "--model", model, "-o", plan]).run()
        try RunCommand.parse([script, "--model", model, "--out", dir + "/a.safetensors", "--quiet"]).run()
        try RunCommand.parse([plan, "--model", model, "--out", dir + "/b.safetensors", "--quiet"]).run()
        let a = try SafetensorsFile(path: dir + "/a.safetensors"), b = try SafetensorsFile(path: dir + "/b.safetensors")
        #expect(a.names.sorted() == ["logits", "pattern"])
        #expect(b.names.sorted() == a.names.sorted())
        for name in a.names { #expect(try a.tensor(name).toFloats() == b.tensor(name).toFloats(), "\(name)") }
        let sidecar = try String(contentsOfFile: dir + "/a.json", encoding: .utf8)
        #expect(sidecar.contains("\"token_ids\":[[504,414,46682,18669,314,3807,281,260,2240,282]]"))
    }
}

/// The optimizer's passes change the plan, never the results: every sample run with and
/// without them writes the same values, bit for bit.
@Suite(.enabled(if: fetchedModelDirectory != nil, "models/smollm2-135m not fetched"))
struct OptimizedRunTests {
    static let samples = ["ablation.nsi", "attention_pattern.nsi", "batched_trace.nsi", "cache_residuals.nsi", "logit_lens.nsi",
                          "mean_ablation.nsi", "patching.nsi", "steering.nsi"]

    @Test(arguments: samples)
    func optimizedRunsMatchUnoptimized(sample: String) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nsi-opt-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = Golden.testsRoot.deletingLastPathComponent().appendingPathComponent("Samples/\(sample)").path
        let model = fetchedModelDirectory!
        try RunCommand.parse([script, "--model", model, "--out", dir + "/a.safetensors", "--quiet"]).run()
        try RunCommand.parse([script, "--model", model, "--out", dir + "/b.safetensors", "--quiet", "--no-optimize"]).run()
        let a = try SafetensorsFile(path: dir + "/a.safetensors"), b = try SafetensorsFile(path: dir + "/b.safetensors")
        #expect(!a.names.isEmpty)
        #expect(b.names.sorted() == a.names.sorted())
        for name in a.names {
            let x = try a.tensor(name), y = try b.tensor(name)
            #expect(x.shape == y.shape, "\(name)")
            #expect(x.toFloats().map(\.bitPattern) == y.toFloats().map(\.bitPattern), "\(name)")
        }
    }
}

/// A run-time error is shown like a compile error: its E07xx code, the script's line and
/// the failing expression underlined, and the dimension the script indexed.
@Suite(.enabled(if: fetchedModelDirectory != nil, "models/smollm2-135m not fetched"))
struct RunErrorTests {
    @Test func runTimeErrorsShowTheirSource() throws {
        let text = "trace \"The Eiffel Tower is located in the city of\" {\n    let h = model.layers[3].output\n    save x = h[0, randint(20, 21, [1])]\n}\n"
        let file = SourceFile(path: "probe.nsi", text: text)
        let parsed = Parser.parse(file)
        let signature = try ModelSignature.load(directory: fetchedModelDirectory!)
        let program = try #require(Checker.check(parsed, signature: signature).program)
        do {
            _ = try VM(model: try LanguageModel(directory: fetchedModelDirectory!)).run(program)
            Issue.record("the run did not fail")
        } catch let e as VMError {
            #expect(e.code == "E0705")
            let shown = try #require(RunCommand.render(e, in: file, format: .text, color: false))
            #expect(shown.hasPrefix("error[E0705]: an index in [1] is out of range for dimension 1 of size 10"), "\(shown)")
            #expect(shown.contains(" --> probe.nsi:3:14"))
            #expect(shown.contains("3 |     save x = h[0, randint(20, 21, [1])]"))
            #expect(shown.contains("^^^^^^^^^^^^^^^^^^^^^^^^^^"))
            let json = try #require(RunCommand.render(e, in: file, format: .json, color: false))
            #expect(json.contains("\"code\":\"E0705\""))
        }
    }
}
