import Foundation
import Testing
@testable import NSICLI
import NSITestSupport

/// `nsi compile` and `nsi dump`: a golden dump (with the bytecode listing) of every sample,
/// and plans that go through a file.
@Suite struct PlanCommandTests {
    static let samplesFolder = Golden.testsRoot.deletingLastPathComponent().appendingPathComponent("Samples")
    static let samples = ((try? FileManager.default.contentsOfDirectory(atPath: samplesFolder.path)) ?? [])
        .filter { $0.hasSuffix(".nsi") }.sorted()
    static let model = Golden.fixture("smollm2-135m")

    static func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nsi-plan-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test(arguments: samples)
    func goldenDump(sample: String) throws {
        let out = DumpCommand.output(input: Self.samplesFolder.appendingPathComponent(sample).path, model: Self.model, params: [:], disasm: true)
        #expect(out.exitCode == 0, "\(out.stderr)")
        #expect(out.stderr.isEmpty)
        try Golden.check(out.stdout, file: "dump-\(sample.replacingOccurrences(of: ".nsi", with: "")).txt")
    }

    @Test func compileThenDumpThePlan() throws {
        let dir = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = Self.samplesFolder.appendingPathComponent("patching.nsi").path
        let plan = dir.appendingPathComponent("patching.nsb").path
        let compiled = CompileCommand.output(script: script, model: Self.model, params: [:], out: plan, format: .text, color: false)
        #expect(compiled.exitCode == 0, "\(compiled.stderr)")
        let size = try FileManager.default.attributesOfItem(atPath: plan)[.size] as? Int ?? 0
        #expect(compiled.stdout == "wrote \(plan): \(size) bytes, 277 instructions, 30 saves (patching.nsi against smollm2-135m)\n")
        #expect(size > 0 && size < 16 * 1024)
        // The plan's dump is the script's, but for the name and the passes' line (a plan keeps no record of them).
        let fromPlan = DumpCommand.output(input: plan, model: Self.model, params: [:], disasm: true)
        let fromScript = DumpCommand.output(input: script, model: Self.model, params: [:], disasm: true)
        #expect(fromPlan.exitCode == 0, "\(fromPlan.stderr)")
        #expect(fromScript.stdout.contains("\npasses: fold 0 folded, cse 175 merged, dce 0 removed: 452 -> 277 instructions\n"))
        let withoutPasses = fromScript.stdout.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("passes: ") }.joined(separator: "\n")
        #expect(fromPlan.stdout.replacingOccurrences(of: "patching.nsb", with: "patching.nsi") == withoutPasses)
    }

    @Test func noOptimizeKeepsTheCheckedProgram() throws {
        let script = Self.samplesFolder.appendingPathComponent("patching.nsi").path
        let out = DumpCommand.output(input: script, model: Self.model, params: [:], disasm: false, optimize: false)
        #expect(out.exitCode == 0, "\(out.stderr)")
        #expect(out.stdout.contains("\npasses: none (--no-optimize)\n"))
        #expect(out.stdout.contains("452 instructions"))
        let plan = try Self.temporaryFolder().appendingPathComponent("patching.nsb").path
        defer { try? FileManager.default.removeItem(atPath: (plan as NSString).deletingLastPathComponent) }
        let compiled = CompileCommand.output(script: script, model: Self.model, params: [:], out: plan, optimize: false, format: .text, color: false)
        #expect(compiled.stdout.contains("452 instructions"))
    }

    /// One of each pass's targets: a float product (fold), the same read twice (cse), a
    /// read nobody uses (dce, which moves the pass's stop from layer 9 to layer 4).
    static let passesScript = """
        # passes.nsi
        trace "The Eiffel Tower is located in the city of" {
            let scale = 2.0 * 0.5
            let unused = model.layers[9].output
            let a = model.layers[3].output[0, -1]
            let b = model.layers[3].output[0, -1]
            model.layers[4].output[:, -1] *= scale
            save s = a - b
        }

        """

    @Test(arguments: [true, false])
    func goldenDumpOfThePasses(optimize: Bool) throws {
        let dir = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = dir.appendingPathComponent("passes.nsi")
        try Self.passesScript.write(to: script, atomically: true, encoding: .utf8)
        let out = DumpCommand.output(input: script.path, model: Self.model, params: [:], disasm: true, optimize: optimize)
        #expect(out.exitCode == 0, "\(out.stderr)")
        if optimize {
            #expect(out.stdout.contains("passes: fold 1 folded, cse 5 merged, dce 3 removed: 16 -> 8 instructions"), "\(out.stdout)")
            #expect(out.stdout.contains("the pass stops after @105 layers.4.output"))
        } else {
            #expect(out.stdout.contains("the pass stops after @210 layers.9.output"))
        }
        try Golden.check(out.stdout, file: optimize ? "dump-passes.txt" : "dump-passes-no-optimize.txt")
    }

    @Test func compileTimeParamsShapeThePlan() throws {
        let script = Self.samplesFolder.appendingPathComponent("mean_ablation.nsi").path
        let out = DumpCommand.output(input: script, model: Self.model, params: ["layer": "7"], disasm: false)
        #expect(out.exitCode == 0, "\(out.stderr)")
        #expect(out.stdout.contains("layer  int  compile time  = 7"))
        #expect(out.stdout.contains("@158 layers.7.attn.z"))
        #expect(!out.stdout.contains("layers.5.attn.z"))
    }

    @Test func planForAnotherModelIsRefused() throws {
        let dir = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let plan = dir.appendingPathComponent("steering.nsb").path
        let script = Self.samplesFolder.appendingPathComponent("steering.nsi").path
        #expect(CompileCommand.output(script: script, model: Self.model, params: [:], out: plan, format: .text, color: false).exitCode == 0)
        let out = DumpCommand.output(input: plan, model: Golden.fixture("tiny/tiny-llama3"), params: [:], disasm: false)
        #expect(out.exitCode == 1)
        #expect(out.stderr.contains("this plan was checked against a model with signature"))
        // A damaged plan names what is wrong.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: plan))
        bytes[bytes.count - 3] ^= 0x55
        try bytes.write(to: URL(fileURLWithPath: plan))
        let damaged = DumpCommand.output(input: plan, model: Self.model, params: [:], disasm: false)
        #expect(damaged.exitCode == 1)
        #expect(damaged.stderr.hasPrefix("error: \(plan): "), "\(damaged.stderr)")
    }

    @Test func scriptErrorsStopCompile() throws {
        let dir = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = dir.appendingPathComponent("bad.nsi")
        try "trace \"x\" { save a = model.layers[99].output }\n".write(to: script, atomically: true, encoding: .utf8)
        let out = CompileCommand.output(script: script.path, model: Self.model, params: [:], out: nil, format: .text, color: false)
        #expect(out.exitCode == 1)
        #expect(out.stderr.contains("error"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("bad.nsb").path))
    }
}
