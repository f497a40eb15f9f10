import Foundation
import NSI
@testable import NSIBytecode
import NSIIR
import NSITestSupport
import NSIVM
import Testing

/// Plans the verifier accepts are run, not only re-encoded: the samples' plan bodies are
/// mutated, re-sealed and decoded, and every plan that verifies runs on SmolLM2 under
/// tight limits. Each must finish or stop with a `VMError` that is not internal: a plan
/// that verifies never reaches a bug, a precondition or an allocation the limits did not
/// allow. `NSI_RUN_FUZZ_SECONDS` (default 40) bounds the time, `NSI_FUZZ_SEED` the seed.
@Suite(.enabled(if: Fixtures.modelDirectory != nil, "models/smollm2-135m not fetched"))
struct AcceptedPlanRunTests {
    @Test func acceptedMutantsRunOrStopCleanly() throws {
        let env = ProcessInfo.processInfo.environment
        let seconds = env["NSI_RUN_FUZZ_SECONDS"].flatMap { Double($0) } ?? 40
        var rng = SplitMix64(seed: env["NSI_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x7275_6e73)
        let model = try Fixtures.model()
        let target = PlanTarget(model.signature)
        var seeds: [(name: String, body: [UInt8], hash: String)] = []
        for url in Fixtures.files(in: Fixtures.repository.appendingPathComponent("Samples").path) {
            let program = try compile(try String(contentsOf: url, encoding: .utf8), path: url.lastPathComponent)
            let (header, body) = try Container.open(try Bytecode.encode(program), limits: .standard)
            seeds.append((url.lastPathComponent, body, header.signatureHash))
        }
        let limits = VMLimits(maxSavedBytes: 64 << 20, maxRegisterBytes: 512 << 20, maxGeneratedTokens: 16,
                              maxInstructions: 200_000, deadline: 5)
        let vm = VM(model: model, limits: limits)
        var tried = 0, accepted = 0, completed = 0
        var stopped: [String: Int] = [:]
        let start = Date()
        while Date().timeIntervalSince(start) < seconds {
            let seed = seeds[tried % seeds.count]
            tried += 1
            guard let data = try? Container.seal(body: Mutator.mutate(seed.body, &rng), signatureHash: seed.hash, level: 1),
                  let program = try? Bytecode.decode(data, for: target) else { continue }
            accepted += 1
            do {
                _ = try vm.run(program)
                completed += 1
            } catch let e as VMError {
                stopped["\(e.kind)", default: 0] += 1
                if e.kind == .internal { Issue.record("mutant \(tried) of \(seed.name) verified, then: \(e)") }
            }
        }
        print("accepted-plan runs: \(tried) mutants, \(accepted) verified, \(completed) completed, stopped: \(stopped.sorted { $0.key < $1.key })")
        #expect(accepted > 0, "no mutant verified in \(tried) tries")
    }

    /// The probe's first crash: a module called on a tensor of the wrong width passes the
    /// verifier (which knows ranks, not the modules' sizes) and must stop the run cleanly.
    @Test func aModuleOfTheWrongWidthStopsTheRun() throws {
        let model = try Fixtures.model()
        let program = try IRText.parse("""
        signature \(model.signature.hash)
        save "y": f32[1, T, 576]
        block trace
          invoke rows 1 prompts ["The city of"]
        %0 = read 4 : f32[1, T, 192] @ block 0 invoke 0 point 4 step 0
        %1 = call "norm" %0 : f32[1, T, 576] @ block 0 invoke 0 point 4 step 0
        %2 = save "y" %1 @ block 0 invoke 0 point 4 step 0
        """)
        let plan = try Bytecode.decode(try Bytecode.encode(program), for: PlanTarget(model.signature))
        #expect(performing: { try VM(model: model).run(plan) }, throws: { error in
            (error as? VMError)?.kind == .input && "\(error)".contains("last dimension is 576")
        })
    }
}
