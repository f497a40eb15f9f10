import Foundation
import NSI
@testable import NSIBytecode
import NSIIR
import NSITensor
import NSISource
import NSISyntax
import NSICheck
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

    /// Per opcode: the all-ops plan with one live instruction's declared result changed
    /// (one known size one larger, or another dtype) is refused by the verifier or, where
    /// the verifier cannot know the type before running, stops with an input error at that
    /// instruction, or (for a dtype) computes in the declared dtype, as the VM converts
    /// results to it. It never completes with a size other than declared, and never
    /// reaches an internal error.
    @Test func everyOpcodesMistypedResultIsRefusedOrStopsCleanly() throws {
        let model = try Fixtures.model()
        let target = PlanTarget(model.signature)
        let url = Fixtures.tests.appendingPathComponent("NSIBytecodeTests/Fixtures/all_ops.nsi")
        let parsed = Parser.parse(SourceFile(path: "all_ops.nsi", text: try String(contentsOf: url, encoding: .utf8)))
        let program = try #require(Checker.check(parsed, signature: model.signature, baseDirectory: url.deletingLastPathComponent().path).program)
        let params: [String: RunValue] = ["other": .str("The capital of France is")]
        let vm = VM(model: model, limits: VMLimits(maxGeneratedTokens: 16, deadline: 60))
        _ = try vm.run(try Bytecode.decode(try Bytecode.encode(program), for: target), params: params)
        // The values effects (saves, writes) depend on: the VM computes no others.
        var live = Set<Int>()
        var work = program.instructions.filter(\.op.isEffect).flatMap(\.op.operands).map(\.index)
        while let v = work.popLast() {
            if live.insert(v).inserted { work += program.instructions[v].op.operands.map(\.index) }
        }
        var firstOfKind: [OpKind: Int] = [:]
        for (i, ins) in program.instructions.enumerated() where firstOfKind[ins.op.kind] == nil && live.contains(i) {
            if case .tensor(_, let dims)? = ins.type, dims.contains(where: { $0.value != nil }) { firstOfKind[ins.op.kind] = i }
        }
        var refused = 0, stopped = 0, converted = 0, problems: [String] = []
        for (kind, i) in firstOfKind.sorted(by: { $0.value < $1.value }) {
            let ins = program.instructions[i]
            guard case .tensor(let dtype, var dims)? = ins.type else { continue }
            let d = dims.lastIndex { $0.value != nil }!
            dims[d] = .known(dims[d].value! + 1)
            let other: NSITensor.DType = dtype == .f32 ? .i64 : .f32
            for (what, type) in [("a size one larger", ValueType.tensor(dtype, dims)), ("dtype \(other)", ValueType.tensor(other, ins.type!.shape!))] {
                var mutated = program
                mutated.instructions[i] = Instruction(id: ins.id, op: ins.op, type: type, anchor: ins.anchor, range: ins.range)
                guard let data = try? Bytecode.encode(mutated), let verified = try? Bytecode.decode(data, for: target) else { refused += 1; continue }
                do {
                    _ = try vm.run(verified, params: params)
                    if what.hasPrefix("dtype") { converted += 1 } else { problems.append("\(kind.traits.name) with \(what): verified and completed") }
                } catch let e as VMError {
                    if e.kind == .internal { problems.append("\(kind.traits.name) with \(what): internal error: \(e)") } else { stopped += 1 }
                }
            }
        }
        print("mistyped results over \(firstOfKind.count) opcodes: \(refused) refused by the verifier, \(stopped) stopped when run, \(converted) computed in the declared dtype")
        #expect(firstOfKind.count >= 20)
        #expect(problems.isEmpty, "\(problems)")
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
