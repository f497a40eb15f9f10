import Foundation
import Testing
import NSI
import NSITestSupport

/// The Swift API from the outside: load, compile, decode, run, results, errors.
@Suite(.enabled(if: Fixtures.modelDirectory != nil, "models/smollm2-135m not fetched"))
struct EmbeddingTests {
    @Test func compilesAndRunsASample() throws {
        let model = try Fixtures.model()
        let plan = try Plan(compiling: try Fixtures.sample("logit_lens.nsi"), for: model, path: "logit_lens.nsi")
        #expect(plan.params.map(\.name) == ["prompt"])
        #expect(plan.params[0].type == "str" && plan.params[0].binding == .runTime)
        #expect(plan.params[0].value == "\"The Eiffel Tower is located in the city of\"")
        #expect(plan.warnings.isEmpty)
        let results = try model.run(plan)
        // p_paris[l] for 30 layers, then the topk pair, then the indexed name whole.
        #expect(results.tensors.map(\.name) == (0..<30).map { "p_paris.\($0)" } + ["top.values", "top.indices", "p_paris"])
        #expect(results["p_paris"]?.shape == [30])
        let p = try #require(results["p_paris.29"])
        #expect(p.dtype == .f32 && p.shape == [])
        #expect(p.floats[0] > 0 && p.floats[0] <= 1)
        let top = try #require(results["top.indices"])
        #expect(top.dtype == .i64 && top.shape == [5])
        #expect(results.blocks.map(\.kind) == [.trace])
        #expect(results.blocks[0].prompts == ["The Eiffel Tower is located in the city of"])
        #expect(results.json.contains("\"top\":{\"type\":\"topk\""))
    }

    @Test func runTimeParamsChangeTheRun() throws {
        let model = try Fixtures.model()
        let plan = try Plan(compiling: try Fixtures.sample("logit_lens.nsi"), for: model)
        let a = try model.run(plan, params: ["prompt": .string("The capital of France is")])
        let b = try model.run(plan)
        #expect(a.blocks[0].prompts == ["The capital of France is"])
        #expect(try #require(a["p_paris.20"]).floats != (try #require(b["p_paris.20"])).floats)
    }

    @Test func planBytesRoundTrip() throws {
        let model = try Fixtures.model()
        let plan = try Plan(compiling: try Fixtures.sample("ablation.nsi"), for: model)
        let decoded = try Plan(bytes: plan.bytes, for: model)
        // What the bytes decode to, not the bytes kept: params and saves as compiled.
        #expect(decoded.params == plan.params && decoded.saves == plan.saves)
        #expect(!decoded.saves.isEmpty)
        #expect(identical(try model.run(plan), try model.run(decoded)))
    }

    @Test func damagedPlanBytesAreAnError() throws {
        let model = try Fixtures.model()
        let plan = try Plan(compiling: try Fixtures.sample("ablation.nsi"), for: model)
        var bytes = plan.bytes
        bytes[bytes.count / 2] ^= 0xFF
        #expect { try Plan(bytes: bytes, for: model) } throws: { ($0 as? NSIError)?.kind == .plan }
        #expect { try Plan(bytes: Data("not a plan".utf8), for: model) } throws: { ($0 as? NSIError)?.kind == .plan }
        #expect { try Plan(bytes: Data(), for: model) } throws: { ($0 as? NSIError)?.kind == .plan }
    }

    @Test func aPlanRunsOnlyOnItsModel() throws {
        let model = try Fixtures.model()
        let tiny = try Model(directory: Fixtures.repository.appendingPathComponent("Tests/Fixtures/tiny/tiny-llama3").path)
        let plan = try Plan(compiling: "trace \"Hello\" { save h = model.layers[0].output }", for: tiny)
        #expect { try model.run(plan) } throws: { ($0 as? NSIError)?.kind == .plan && "\($0)".contains("another model") }
        #expect { try Plan(bytes: plan.bytes, for: model) } throws: { ($0 as? NSIError)?.kind == .plan }
    }

    @Test func diagnosticsAreValues() throws {
        let model = try Fixtures.model()
        let source = "trace \"Hello\" {\n    save x = model.layers[99].output\n}\n"
        do {
            _ = try Plan(compiling: source, for: model, path: "bad.nsi")
            Issue.record("a script with an error compiled")
        } catch let e as CompileError {
            let d = try #require(e.diagnostics.first)
            #expect(d.isError && d.line == 2 && d.column > 1)
            #expect(d.code.hasPrefix("E"))
            #expect(d.rendered.contains("bad.nsi:2:"))
            #expect(d.json.hasPrefix("{") && d.json.contains("\"code\":\"\(d.code)\""))
            #expect(e.diagnostics.json.hasPrefix("["))
        }
    }

    @Test func compileTimeParams() throws {
        let model = try Fixtures.model()
        let plan = try Plan(compiling: try Fixtures.sample("mean_ablation.nsi"), for: model, params: ["layer": "2"])
        let layer = try #require(plan.params.first { $0.name == "layer" })
        #expect(layer.binding == .compileTime && layer.value == "2")
        #expect { try model.run(plan, params: ["layer": .int(3)]) } throws: {
            let e = $0 as? NSIError
            return e?.kind == .param && e!.message.contains("compiled")
        }
    }

    @Test func badParamsAreClearErrors() throws {
        let model = try Fixtures.model()
        let plan = try Plan(compiling: try Fixtures.sample("logit_lens.nsi"), for: model)
        #expect { try model.run(plan, params: ["promt": .string("x")]) } throws: {
            ($0 as? NSIError)?.kind == .param && "\($0)".contains("no param `promt`") && "\($0)".contains("prompt")
        }
        #expect { try model.run(plan, params: ["prompt": .float(1.5)]) } throws: {
            ($0 as? NSIError)?.kind == .param && "\($0)".contains("needs a str value")
        }
        #expect { try model.run(plan, params: ["prompt": .string("")]) } throws: { ($0 as? NSIError)?.kind == .run }
    }

    /// A host tells a limit from a cancellation from its own mistake by the kind alone.
    @Test func limitsHaveTheirOwnKind() throws {
        let model = try Fixtures.model()
        let plan = try Plan(compiling: try Fixtures.sample("logit_lens.nsi"), for: model)
        var limits = Limits()
        limits.maxRegisterBytes = 1000
        #expect { try model.run(plan, limits: limits) } throws: {
            ($0 as? NSIError)?.kind == .limit && "\($0)".contains("bytes of intermediate values")
        }
        limits = Limits(deadline: 0)
        #expect { try model.run(plan, limits: limits) } throws: { ($0 as? NSIError)?.kind == .limit && "\($0)".contains("deadline") }
        let outOfRange = try Plan(compiling: "param prompt: str = \"Hi\"\ntrace prompt { save x = model.layers[0].output[:, 40] }", for: model)
        #expect { try model.run(outOfRange) } throws: { ($0 as? NSIError)?.kind == .run && "\($0)".contains("out of range") }
    }

    @Test func modelErrors() {
        #expect { try Model(directory: "/nonexistent/model") } throws: {
            ($0 as? NSIError)?.kind == .model && "\($0)".contains("does not exist")
        }
    }

    @Test func cancelledBeforeItStarts() throws {
        let model = try Fixtures.model()
        let plan = try Plan(compiling: try Fixtures.sample("logit_lens.nsi"), for: model)
        let cancellation = Cancellation()
        cancellation.cancel()
        #expect(cancellation.isCancelled)
        #expect { try model.run(plan, cancellation: cancellation) } throws: { ($0 as? NSIError)?.kind == .cancelled }
    }
}
