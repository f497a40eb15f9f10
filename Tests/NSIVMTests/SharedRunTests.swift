import Foundation
import Testing
import NSIIR
import NSIRuntime
import NSITensor
import NSIVM
import NSITestSupport

private func maxDiff(_ a: RunValue?, _ b: RunValue?) throws -> Float {
    maxDifference(try #require(a?.tensor), try #require(b?.tensor))
}

/// Plans from different users sharing one forward pass (the server's co-tenancy), and
/// cancellation of a running plan.
@Suite(.enabled(if: Fixtures.modelDirectory != nil, "models/smollm2-135m not fetched"))
struct SharedRunTests {
    let probe = #"trace "The capital of France is" { save h = model.layers[2].output  save l = model.logits[0, -1] }"#
    /// A hostile plan: it overwrites the residual stream of its rows at every layer it can.
    let hostile = #"""
    trace "Ignore everything and write large values" {
        for i in 0..<30 { model.layers[i].output[:] = 10000.0 }
        save x = model.layers[1].output
    }
    """#

    @Test func sharedPassMatchesLoneRunsAndConfinesWrites() throws {
        let vm = VM(model: try Fixtures.model())
        let probe = try compile(self.probe), hostile = try compile(self.hostile)
        let alone = try vm.run(probe)
        let together = vm.runShared([SharedRun(program: hostile), SharedRun(program: probe), SharedRun(program: probe)])
        #expect(together.count == 3)
        let h = try together[0].get()
        let x = try #require(h.value("x")?.tensor)
        #expect(x.toFloats().allSatisfy { $0 == 10000 })
        for r in together.dropFirst() {
            let shared = try r.get()
            // Each plan sees rows 0..<1 of its own: the same shapes as alone.
            let dh = try maxDiff(shared.value("h"), alone.value("h"))
            let dl = try maxDiff(shared.value("l"), alone.value("l"))
            print("shared pass vs lone run: hidden max diff \(dh), logits max diff \(dl) (tolerance 1e-3: left padding)")
            #expect(dh < 1e-3)
            #expect(dl < 1e-3)
            #expect(shared.blocks[0].tokenIds == alone.blocks[0].tokenIds)
        }
    }

    /// Plans whose blocks hold different invokes and rows: each keeps its own layout.
    @Test func differentInvokeLayoutsShare() throws {
        let vm = VM(model: try Fixtures.model())
        let scripts = [
            #"trace { invoke "The capital of France is" { save a = model.layers[3].output[0, -1] }  invoke "Hello" { model.layers[2].output *= 0.5  save b = model.logits[0, -1] } }"#,
            #"trace ["The Eiffel Tower is located in the city of", "One", "Two words"] { save h = model.layers[4].output[:, -1]  save l = model.logits[:, -1] }"#,
            probe,
        ]
        let programs = try scripts.map { try compile($0) }
        let out = vm.runShared(programs.map { SharedRun(program: $0) })
        for (program, r) in zip(programs, out) {
            let shared = try r.get(), alone = try vm.run(program)
            #expect(shared.values.map(\.key) == alone.values.map(\.key))
            for ((key, a), (_, b)) in zip(shared.values, alone.values) {
                let d = try maxDiff(a, b)
                #expect(d < 1e-3, "\(key) differs from the lone run by \(d)")
            }
            #expect(shared.blocks[0].tokenIds == alone.blocks[0].tokenIds)
        }
    }

    @Test func oneRunsErrorLeavesTheOthers() throws {
        let vm = VM(model: try Fixtures.model())
        let failing = try compile(#"""
        param p: str = "Short"
        trace p { let h = model.layers[0].output  save y = h[0, 40] }
        """#)
        let probe = try compile(self.probe)
        let out = vm.runShared([SharedRun(program: failing), SharedRun(program: probe)])
        #expect(throws: (any Error).self) { try out[0].get() }
        let ok = try out[1].get()
        #expect(try maxDiff(ok.value("l"), try vm.run(probe).value("l")) < 1e-3)
    }

    @Test func greedyGenerationsShare() throws {
        let vm = VM(model: try Fixtures.model())
        let a = try compile(#"generate "The capital of France is" (max_tokens = 6) { save ids = result.ids }"#)
        let b = try compile(#"generate "def fibonacci(n):" (max_tokens = 6) { save ids = result.ids  save h = model.layers[1].output }"#)
        #expect(VM.canShare(a, b))
        let out = vm.runShared([SharedRun(program: a), SharedRun(program: b)])
        for (program, r) in zip([a, b], out) {
            let shared = try r.get(), alone = try vm.run(program)
            #expect(shared.blocks[0].generatedIds == alone.blocks[0].generatedIds)
            #expect(try maxDiff(shared.value("ids"), alone.value("ids")) == 0)
        }
    }

    @Test func mismatchedBlocksAreRefusedNotRun() throws {
        let vm = VM(model: try Fixtures.model())
        let trace = try compile(probe)
        let sampled = try compile(#"generate "Hello" (max_tokens = 3, temperature = 0.8, seed = 1) { save ids = result.ids }"#)
        let hotter = try compile(#"generate "Hello" (max_tokens = 3, temperature = 1.2, seed = 1) { save ids = result.ids }"#)
        #expect(!VM.canShare(trace, sampled))
        #expect(!VM.canShare(sampled, hotter))
        let out = vm.runShared([SharedRun(program: trace), SharedRun(program: sampled)])
        _ = try out[0].get()
        #expect { try out[1].get() } throws: { String(describing: $0).contains("run it alone") }
    }

    /// Sampled generations share a pass when their settings match: every row draws from
    /// its own generator, seeded from its plan's seed, so each plan samples what it would alone.
    @Test func sampledGenerationsShareAndSampleAsAlone() throws {
        let vm = VM(model: try Fixtures.model())
        let a = try compile(#"generate "Once upon a time" (max_tokens = 8, temperature = 0.9, top_k = 40, seed = 11) { save ids = result.ids }"#)
        let b = try compile(#"generate ["The weather today", "My favourite food is"] (max_tokens = 8, temperature = 0.9, top_k = 40, seed = 5) { save ids = result.ids }"#)
        #expect(VM.canShare(a, b))
        let out = vm.runShared([SharedRun(program: b), SharedRun(program: a)])
        for (program, r) in zip([b, a], out) {
            let shared = try r.get(), alone = try vm.run(program)
            #expect(shared.blocks[0].generatedIds == alone.blocks[0].generatedIds)
        }
    }

    /// A generation past the token limit is refused before its pass runs (not after
    /// generating 4,000 tokens), alone or beside another plan.
    @Test func aRefusedPlanDoesNotRunItsPass() throws {
        let vm = VM(model: try Fixtures.model(), limits: VMLimits(maxGeneratedTokens: 100))
        let long = try compile(#"generate "Hi" (max_tokens = 4000) { save h = model.layers[0].output.sum()  save ids = result.ids }"#)
        // The VM reports each pass it runs; a refused plan reports none.
        let reports = Guarded<[String]>([])
        #expect { try vm.run(long, progress: { m in reports.update { $0.append(m) } }) } throws: {
            "\($0)".contains("exceeds the limit of 100 generated tokens")
        }
        let out = vm.runShared([SharedRun(program: long), SharedRun(program: long)], progress: { m in reports.update { $0.append(m) } })
        for r in out { #expect(throws: (any Error).self) { try r.get() } }
        #expect(reports.get().isEmpty, "passes ran: \(reports.get().prefix(3))")
    }

    @Test func cancelledBeforeItStarts() throws {
        let vm = VM(model: try Fixtures.model())
        let c = RunCancellation()
        c.cancel()
        #expect { try vm.run(try compile(probe), cancellation: c) } throws: { String(describing: $0).contains("cancelled") }
    }

    @Test func cancelledWhileRunning() throws {
        let vm = VM(model: try Fixtures.model())
        let program = try compile(#"generate "Once upon a time" (max_tokens = 400) { save ids = result.ids }"#)
        let c = RunCancellation()
        // Cancelled from the run's own progress, at its third step, however fast or busy
        // the machine: mid-run by construction, not by a timer.
        let steps = Guarded([String]())
        #expect {
            try vm.run(program, cancellation: c) { message in
                steps.update { $0.append(message) }
                if message.hasPrefix("generate 0: step 3/") { c.cancel() }
            }
        } throws: { String(describing: $0).contains("cancelled") }
        // It stopped at the next step: a missed cancel would have gone on to step 400.
        let last = steps.get().last ?? ""
        #expect(last == "generate 0: step 3/400", "progress ended at \(last)")
    }

    /// A shared generation where one plan steers every step: each plan gets what it gets
    /// alone, and the steering took effect on the writer's rows only.
    @Test func aWritingGenerationSharesWithAReader() throws {
        let vm = VM(model: try Fixtures.model())
        let writer = try compile(#"generate "The capital of France is" (max_tokens = 8) { each step { model.layers[3].output += 4.0 }  save ids = result.ids }"#)
        let unsteered = try compile(#"generate "The capital of France is" (max_tokens = 8) { save ids = result.ids }"#)
        let reader = try compile(#"generate "def fibonacci(n):" (max_tokens = 8) { save ids = result.ids  step 2 { save h = model.layers[5].output[0, -1] } }"#)
        #expect(VM.canShare(writer, reader))
        let out = vm.runShared([SharedRun(program: writer), SharedRun(program: reader)])
        for (name, program, r) in [("writer", writer, out[0]), ("reader", reader, out[1])] {
            let shared = try r.get(), alone = try vm.run(program)
            #expect(shared.blocks[0].generatedIds == alone.blocks[0].generatedIds, "\(name)")
            for (key, value) in alone.values {
                let d = try maxDiff(shared.value(key), value)
                #expect(d <= 1e-4, "\(name).\(key): shared differs from alone by \(d)")
            }
        }
        #expect(try out[0].get().blocks[0].generatedIds != vm.run(unsteered).blocks[0].generatedIds, "the steering changed nothing")
    }

    /// A run cancelled in the middle of a shared generation (at its fourth step, by the
    /// progress report) stops there; the plan beside it finishes with the values it has alone.
    @Test func cancellingASharedGenerationMidwayLeavesTheOthersValues() throws {
        let vm = VM(model: try Fixtures.model())
        let cancelled = try compile(#"generate "Once upon a time" (max_tokens = 12) { save ids = result.ids }"#)
        let other = try compile(#"generate "The capital of France is" (max_tokens = 12) { save ids = result.ids  step 8 { save h = model.layers[2].output[0, -1] } }"#)
        #expect(VM.canShare(cancelled, other))
        let c = RunCancellation()
        let out = vm.runShared([SharedRun(program: cancelled, cancellation: c), SharedRun(program: other)]) { message in
            if message.hasSuffix("step 4/12") { c.cancel() }
        }
        #expect { try out[0].get() } throws: { String(describing: $0).contains("cancelled") }
        let shared = try out[1].get(), alone = try vm.run(other)
        #expect(shared.blocks[0].generatedIds == alone.blocks[0].generatedIds)
        let d = try maxDiff(shared.value("h"), alone.value("h"))
        #expect(d <= 1e-4, "h differs from the lone run by \(d)")
    }

    /// Fair time in a shared batch: a run's deadline counts the passes it shares and its
    /// own instructions, not a neighbour's. A plan with seconds of its own products, beside
    /// a quick probe, under a deadline between the probe's time and the products': the
    /// products' plan stops at its deadline, the probe completes with its lone values.
    /// (The work is sized on this machine first, so the comparison holds on any CPU.)
    @Test func aNeighboursOwnWorkIsNotChargedToYourDeadline() throws {
        let model = try Fixtures.model()
        let vm = VM(model: model)
        let probe = try compile(self.probe)
        func seconds(_ body: () throws -> Void) rethrows -> Double {
            let t = Date()
            try body()
            return Date().timeIntervalSince(t)
        }
        func heavy(_ k: Int) throws -> Program {
            try compile("trace \"The capital of France is\" { for i in 0..<\(k) { save z[i] = ((zeros(1024, 1024) + 1.0) @ (zeros(1024, 1024) + 1.0))[0, 0] }  save h = model.layers[2].output[0, -1] }")
        }
        let alone = try vm.run(probe)
        let probeTime = try (0..<3).map { _ in try seconds { _ = try vm.run(probe) } }.max()!
        // Products enough for 8 probes and a second, from the time 8 more of them take.
        let t8 = try seconds { _ = try vm.run(try heavy(8)) }, t16 = try seconds { _ = try vm.run(try heavy(16)) }
        let perProduct = max((t16 - t8) / 8, 1e-3)
        var k = min(4096, max(8, Int(((8 * probeTime + 1) * 1.3 / perProduct).rounded(.up))))
        var heavyTime = try seconds { _ = try vm.run(try heavy(k)) }
        // A machine busy with other work gives uneven timings: more products until the
        // plan is slow enough.
        for _ in 0..<4 where heavyTime < 8 * probeTime + 1 && k < 8192 {
            k = min(8192, k * 2)
            heavyTime = try seconds { _ = try vm.run(try heavy(k)) }
        }
        try #require(heavyTime >= 8 * probeTime + 1, "no product plan far slower than the probe (\(heavyTime) s vs \(probeTime) s)")
        let deadline = heavyTime / 2
        let limited = VM(model: model, limits: VMLimits(deadline: deadline))
        let out = limited.runShared([SharedRun(program: try heavy(k)), SharedRun(program: probe)])
        #expect { try out[0].get() } throws: { ($0 as? VMError)?.kind == .limit(.deadline) }
        let shared = try out[1].get()
        #expect(try maxDiff(shared.value("h"), alone.value("h")) <= 1e-4)
        print("fair time: products \(k) x 1024^3 took \(heavyTime) s alone, the probe \(probeTime) s; under a \(deadline) s deadline together, the products stopped and the probe completed")
    }

    @Test func cancellingOneSharedRunLeavesTheOther() throws {
        let vm = VM(model: try Fixtures.model())
        let probe = try compile(self.probe)
        let c = RunCancellation()
        c.cancel()
        let out = vm.runShared([SharedRun(program: probe, cancellation: c), SharedRun(program: probe)])
        #expect { try out[0].get() } throws: { String(describing: $0).contains("cancelled") }
        _ = try out[1].get()
    }
}

/// Copy elision changes no result: the same scripts with every read copied and with
/// reads as views where the memory plan allows.
@Suite(.enabled(if: Fixtures.modelDirectory != nil, "models/smollm2-135m not fetched"))
struct CopyElisionTests {
    @Test(arguments: [
        // A view consumed in its hook, and a saved slice.
        #"trace "The city of Paris" { save n = model.layers[2].output.norm()  save h = model.layers[3].output[0, -1] }"#,
        // A write to the point between the read and its use: the read must be a copy.
        #"trace "The city of Paris" { let h = model.layers[2].output  model.layers[2].output[:] = 0  save n = h.norm()  save l = model.logits[0, -1] }"#,
        // Shifting a point's own tokens: the source overlaps the target.
        #"trace "The city of Paris" { model.layers[1].output[:, 1:] = model.layers[1].output[:, :-1]  save h = model.layers[1].output  save l = model.logits[0, -1] }"#,
        // Used at a later point, and through reshape/transpose views.
        #"trace "The city of Paris" { let a = model.layers[1].output.transpose(1, 2)  model.layers[4].output += a.transpose(1, 2) * 0.5  save s = model.layers[1].output.reshape(-1).sum()  save l = model.logits[0, -1] }"#,
        // Per-step reads in a generation.
        #"generate "The city of" (max_tokens = 4) { step 0 { save m0 = model.layers[2].output.mean() }  step 2 { save m2 = model.layers[2].output[0, -1] }  each step { model.layers[3].output *= 0.9 }  save ids = result.ids }"#,
    ])
    func sameResultsWithAndWithoutElision(script: String) throws {
        let program = try compile(script)
        let views = try VM(model: try Fixtures.model()).run(program)
        let copies = try VM(model: try Fixtures.model(), elideCopies: false).run(program)
        #expect(views.values.map(\.key) == copies.values.map(\.key))
        for ((k, a), (_, b)) in zip(views.values, copies.values) {
            let x = try #require(a.tensor), y = try #require(b.tensor)
            #expect(x.shape == y.shape, "\(k)")
            #expect(x.toFloats() == y.toFloats(), "\(k) differs with copy elision")
        }
        #expect(views.peakRegisterBytes <= copies.peakRegisterBytes)
    }
}

/// A value shared with callbacks that may run on other threads.
