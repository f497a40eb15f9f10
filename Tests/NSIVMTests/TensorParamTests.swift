import Foundation
import Testing
import NSIRuntime
import NSITensor
import NSIVM
import NSITestSupport

/// Tensor params of every dtype: token ids given when running (as text, as `--param`
/// gives them, or as a tensor) are a prompt like the same ids written in the script;
/// defaults keep their dtype; values that do not fit are refused with the param's name.
@Suite struct TensorParamTests {
    static let dir = Fixtures.path("tiny/tiny-llama3")

    @Test func idsGivenWhenRunningAreAPrompt() throws {
        let vm = VM(model: try LanguageModel(directory: Self.dir))
        let program = try compile("""
        param ids: i64[1, 4]
        param scale: f32[2] = [1, 2]
        trace ids { save l = model.logits[0, -1]
            save s = scale }
        """, model: Self.dir)
        let literal = try vm.run(try compile("trace [[5, 17, 42, 99]] { save l = model.logits[0, -1] }", model: Self.dir))
        let want = try #require(literal.value("l")?.tensor).toFloats()
        for given in [RunValue.str("[[5, 17, 42, 99]]"), .tensor(Tensor(shape: [1, 4], int64s: [5, 17, 42, 99])),
                      .tensor(Tensor(shape: [1, 4], floats: [5, 17, 42, 99]))] {
            let r = try vm.run(program, params: ["ids": given])
            #expect(try #require(r.value("l")?.tensor).toFloats() == want, "\(given)")
            let s = try #require(r.value("s")?.tensor)
            #expect(s.dtype == .f32 && s.toFloats() == [1, 2])
        }
        for (bad, message) in [("[[5, 17, 42.5, 99]]", "whole numbers"), ("[[5, 17], [42, 99]]", "needs shape [1, 4]"),
                               ("[[5, 17, 42", "nested lists"), ("[[1, 2, 3], [4, 5]]", "nested lists")] {
            #expect {
                _ = try vm.run(program, params: ["ids": .str(bad)])
            } throws: { error in
                "\(error)".contains(message) && "\(error)".contains("`ids`")
            }
        }
    }

    /// A prompt whose length is known only when running (`i64[1, T]`) may be sliced from
    /// its start (`1:3` has length 2 when compiling); a prompt too short for the slice
    /// stops the run with an error at the index, and nothing else is wrong.
    @Test func slicesOfARunTimePromptAreChecked() throws {
        let vm = VM(model: try LanguageModel(directory: Self.dir))
        let program = try compile("""
        param ids: i64[1, T]
        trace ids {
            model.embed.output[:, 1:3] += 1.0
            save width = model.embed.output[:, 1:3].shape[1]
            save part = model.layers[0].output[:, 1:3]
        }
        """, model: Self.dir)
        let r = try vm.run(program, params: ["ids": .str("[[5, 17, 42, 99]]")])
        #expect(r.value("width")?.intValue == 2)
        #expect(try #require(r.value("part")?.tensor).shape == [1, 2, 64])
        #expect {
            _ = try vm.run(program, params: ["ids": .str("[[5, 17]]")])
        } throws: { error in "\(error)".contains("[1, 1, 64]") }
    }

    /// `load` of an i64 tensor gives ids (a prompt); integers a plan cannot hold exactly are refused.
    @Test func loadedIdsAreAPrompt() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nsi-load-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("ids.safetensors").path
        try SafetensorsWriter.write([("ids", Tensor(shape: [1, 4], int64s: [5, 17, 42, 99])), ("big", Tensor(shape: [1], int64s: [1 << 40]))],
                                   metadata: [:], to: file)
        let vm = VM(model: try LanguageModel(directory: Self.dir))
        let r = try vm.run(try compile("trace load(\"\(file)\", \"ids\") { save l = model.logits[0, -1] }", model: Self.dir))
        let literal = try vm.run(try compile("trace [[5, 17, 42, 99]] { save l = model.logits[0, -1] }", model: Self.dir))
        #expect(try #require(r.value("l")?.tensor).toFloats() == (try #require(literal.value("l")?.tensor).toFloats()))
        #expect(throws: (any Error).self) { try compile("trace [1] { save b = load(\"\(file)\", \"big\") }", model: Self.dir) }
    }

    @Test func compileTimeOverridesAndDefaultsKeepTheirDType() throws {
        let vm = VM(model: try LanguageModel(directory: Self.dir))
        let text = "param ids: i64[1, 3] = [[7, 8, 9]]\ntrace [1, 2] { save ids = ids }\n"
        let fromDefault = try vm.run(try compile(text, model: Self.dir))
        let d = try #require(fromDefault.value("ids")?.tensor)
        #expect(d.dtype == .i64 && d.toInt64s() == [7, 8, 9])
        let overridden = try vm.run(try compile(text, model: Self.dir, params: ["ids": "[[1, 2, 3]]"]))
        #expect(try #require(overridden.value("ids")?.tensor).toInt64s() == [1, 2, 3])
        #expect(throws: (any Error).self) { try compile(text, model: Self.dir, params: ["ids": "[[1, 2]]"]) }
        #expect(throws: (any Error).self) { try compile("param ids: i64[2] = [0.5, 1]\ntrace [1] { save x = ids }\n", model: Self.dir) }
    }
}
