import Foundation
import Testing
import NSICheck
import NSIIR
import NSISource
import NSISyntax
import NSITestSupport

/// The brief's examples and every sample check clean against SmolLM2; scripts written
/// for the tiny models check clean against theirs.
@Suite struct CheckedSampleTests {
    static let samples = Fixtures.files(in: Fixtures.repository.appendingPathComponent("Samples").path)
    static let tinyScripts = Fixtures.files(in: Fixtures.own("wellformed"))

    @Test(arguments: samples + tinyScripts)
    func checksClean(script: URL) throws {
        let (_, parsed, result) = try checkFile(script)
        #expect(!parsed.hasErrors, "\(parsed.diagnostics.map(\.message))")
        let errors = result?.diagnostics.filter(\.isError) ?? []
        #expect(errors.isEmpty, "\(script.lastPathComponent): \(errors.map { "\($0.code) \($0.message)" })")
        #expect(result?.program != nil)
    }

    @Test func samplesExist() {
        #expect(Self.samples.map(\.lastPathComponent).contains("patching.nsi"))
        #expect(Self.samples.count >= 4)
    }

    /// The patching example: 31 invokes in one trace, 30 saved logit differences, and the
    /// prompt params bound at run time, the position at compile time.
    @Test func patchingExampleShape() throws {
        let url = Fixtures.repository.appendingPathComponent("Samples/patching.nsi")
        let (_, _, result) = try checkFile(url)
        let program = try #require(result?.program)
        #expect(program.blocks.count == 1)
        #expect(program.blocks[0].invokes.count == 31)
        #expect(program.saves.count == 30)
        #expect(program.saves.first?.key == "logit_diff.0")
        let bindings = Dictionary(uniqueKeysWithValues: program.params.map { ($0.name, $0.binding) })
        #expect(bindings == ["clean": .runTime, "corrupt": .runTime, "pos": .compileTime])
    }

    /// The logit lens reads layer l's output and calls norm and lm_head on it: 30 saved
    /// probabilities and a topk pair.
    @Test func logitLensTypes() throws {
        let (_, _, result) = try checkFile(Fixtures.repository.appendingPathComponent("Samples/logit_lens.nsi"))
        let program = try #require(result?.program)
        #expect(program.saves.count == 31)
        #expect(program.saves.first { $0.key == "p_paris.0" }?.type == .tensor(.f32, []))
        #expect(program.saves.first { $0.key == "top" }?.type == .topk(values: [.known(5)]))
    }

    /// The brief's examples name layers a 2-layer model does not have: the checker says so.
    @Test func briefExamplesDoNotFitTinyModels() throws {
        let url = Fixtures.repository.appendingPathComponent("Samples/ablation.nsi")
        let (_, _, result) = try checkFile(url, model: "tiny-qwen3")
        #expect(result?.diagnostics.contains { $0.code.rawValue == "E0402" } == true)
    }
}
