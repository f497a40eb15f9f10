import ArgumentParser
import Foundation
import NSICheck
import NSIIR
import NSIJSON
import NSILSP
import NSIModel
import NSIOpt
import NSIRuntime
import NSISource
import NSISyntax
import NSITensor
import NSIVM

/// Times the runtime on a model folder and prints one JSON object per measurement.
/// Benchmarks/run-runtime runs this beside the transformers reference and reports ratios.
@main
struct NSIBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "nsi-bench", abstract: "Time nsi's runtime.")

    @Option(help: "Model folder.") var model = "models/smollm2-135m"
    @Option(help: "Timed repetitions per measurement (the median is reported).") var repeats = 5
    @Option(help: "Comma-separated measurements: forwardN (N prompt tokens: forward10, forward128, forward1024, ...), generate32, check10k, vm, scale, lsp1000, concurrency8.") var only = "forward10,forward128,generate32"

    /// The token ids both runners use: a fixed cycle, so no tokenizer is involved.
    static func promptIds(_ n: Int) -> [Int] {
        let base = [504, 3575, 282, 4649, 314, 6403, 1980, 253, 655, 28, 665, 436, 253, 1838, 8085, 617]
        return (0..<n).map { base[$0 % base.count] }
    }

    func run() throws {
        if only == "check10k" { return try checkBenchmark() }
        if only == "vm" { return try vmBenchmark() }
        if only == "lsp1000" { return try lspBenchmark() }
        if only == "concurrency8" { return try concurrencyBenchmark() }
        let loadStart = Date()
        let m = try Transformer(directory: model)
        emit("load", [Date().timeIntervalSince(loadStart) * 1000], extra: ["threads": "\(Threads.count)"])
        emitMachine()
        for name in only.split(separator: ",").map(String.init) {
            switch name {
            case _ where name.hasPrefix("forward") && Int(name.dropFirst(7)).map({ $0 >= 1 }) == true:
                // forwardN: one pass over N prompt tokens (forward10 and forward128 by default;
                // forward512, forward2048 for attention's share at long prompts).
                let ids = Self.promptIds(Int(name.dropFirst(7))!)
                _ = try m.trace(prompts: [ids])     // warm-up: pages in the weights
                emit(name, try (0..<repeats).map { _ in try time { _ = try m.trace(prompts: [ids]) } })
            case "scale":
                try scaleBenchmark(m)
            case "generate32":
                let ids = Self.promptIds(10)
                let options = SamplingOptions(maxTokens: 32, stopAtEOS: false)
                _ = try m.generate(prompts: [ids], options: options)
                emit(name, try (0..<max(1, repeats / 2)).map { _ in try time { _ = try m.generate(prompts: [ids], options: options) } })
            default:
                throw ValidationError("unknown measurement \(name)")
            }
        }
    }

    /// One plan from 8 threads at once on one loaded model: the resident memory the
    /// concurrent runs add beyond the sequential ones (their activations and KV caches; a
    /// copy of the weights per run would add 8 x 540 MB), measured in a process that
    /// loads nothing else, with the wall time of each way.
    func concurrencyBenchmark() throws {
        let lm = try LanguageModel(directory: model)
        let signature = try ModelSignature.load(directory: model)
        let text = """
            param prompt: str = "The Eiffel Tower is located in the city of"
            trace prompt {
                save h = model.layers[12].output[0, -1]
                save top = model.logits[0, -1].topk(5)
            }
            generate prompt (max_tokens = 3) { save ids = result.ids }
            """
        guard let program = Checker.check(Parser.parse(SourceFile(path: "bench.nsi", text: text)), signature: signature).program else {
            throw ValidationError("benchmark script does not check")
        }
        let prompts = ["The Eiffel Tower is located in the city of", "The capital of France is", "I think that you are",
                       "When John and Mary went to the store, Mary gave a drink to", "Hello", "One, two, three,",
                       "The Colosseum is located in the city of", "Water boils at"]
        let vm = VM(model: lm)
        let params: @Sendable (Int) -> [String: RunValue] = { i in ["prompt": .str(prompts[i])] }
        let sequential = try time { for i in 0..<8 { _ = try vm.run(program, params: params(i)) } }
        let afterSequential = Self.residentKiB()
        var peak = afterSequential
        let done = DispatchGroup()
        final class Failures: @unchecked Sendable { let lock = NSLock(); var errors: [String] = [] }
        let failures = Failures()
        let concurrent = time {
            for i in 0..<8 {
                done.enter()
                Thread.detachNewThread {
                    do { _ = try vm.run(program, params: params(i)) } catch { failures.lock.withLock { failures.errors.append("\(error)") } }
                    done.leave()
                }
            }
            while done.wait(timeout: .now() + .milliseconds(5)) == .timedOut { peak = max(peak, Self.residentKiB()) }
        }
        if let e = failures.errors.first { throw ValidationError("a concurrent run failed: \(e)") }
        emitMachine()
        emit("concurrency8_sequential", [sequential])
        emit("concurrency8_concurrent", [concurrent])
        let line = "{\"name\":\"concurrency8_memory\",\"resident_after_sequential_mib\":\(afterSequential / 1024),\"peak_during_concurrent_mib\":\(peak / 1024),\"added_mib\":\((peak - afterSequential) / 1024)}\n"
        FileHandle.standardOutput.write(Data(line.utf8))
    }

    /// VmRSS of this process, in KiB (0 where /proc is not available).
    static func residentKiB() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "0") ?? 0
        }
        return 0
    }

    /// Parses and checks a generated 10,000-line script against the model's signature.
    func checkBenchmark() throws {
        let signature = try ModelSignature.load(directory: model)
        var lines = ["param alpha: float = 0.5", "# a generated script: lets, saves, module calls and writes",
                     "", "trace \"The Eiffel Tower is located in the city of\" {"]
        while lines.count < 9_999 {
            let i = lines.count, l = i % 30
            switch i % 4 {
            case 0: lines.append("    let h\(i) = model.layers[\(l)].output[0, -1] * alpha")
            case 1: lines.append("    let p\(i) = model.lm_head(model.norm(h\(i - 1))).softmax(-1)[tok(\" Paris\")]")
            case 2: lines.append("    save s\(i) = p\(i - 1) + h\(i - 2).norm(dim = -1)")
            default: lines.append("    model.norm.output[:, -1] += 0.01 * h\(i - 3)")
            }
        }
        lines.append("}")
        let text = lines.joined(separator: "\n") + "\n"
        var runs: [Double] = []
        var diagnostics = 0
        for _ in 0..<repeats {
            runs.append(time {
                let parsed = Parser.parse(SourceFile(path: "bench.nsi", text: text))
                let result = Checker.check(parsed, signature: signature)
                diagnostics = parsed.diagnostics.count + result.diagnostics.count
            })
        }
        let perLine = runs.sorted()[runs.count / 2] / Double(lines.count) * 1000
        emit("check10k", runs, extra: ["lines": "\(lines.count)", "us_per_line": String(format: "%.2f", perLine), "diagnostics": "\(diagnostics)"])
    }

    /// The VM against plain forward passes: hook overhead of reading and writing every
    /// layer, the brief's 31-invoke patching example, and a probe that stops at layer 4.
    func vmBenchmark() throws {
        let lm = try LanguageModel(directory: model)
        let signature = try ModelSignature.load(directory: model)
        func program(_ text: String) throws -> Program {
            let parsed = Parser.parse(SourceFile(path: "bench.nsi", text: text))
            guard let p = Checker.check(parsed, signature: signature, baseDirectory: ".").program else {
                throw ValidationError("benchmark script does not check")
            }
            return p
        }
        let prompt = "The Eiffel Tower is located in the city of"
        let ids = try lm.encode(prompt)
        let vm = VM(model: lm), unshared = VM(model: lm, sharePrefixes: false)
        emitMachine()
        // It saves the logits, so that the head runs at every position as in the plain forward
        // (a trace that reads no logits skips the head, and one that reads one position runs it there only).
        let rw = try program("trace \"\(prompt)\" { for l in 0..<model.num_layers { let h = model.layers[l].output ; model.layers[l].output = h * 1.0 } ; save lg = model.logits }")
        let probe = try program("trace \"\(prompt)\" { save h = model.layers[4].output }")
        let patchingText = try String(contentsOfFile: "Samples/patching.nsi", encoding: .utf8)
        let patching = try program(patchingText)
        let attributionText = try String(contentsOfFile: "Samples/attribution_patching.nsi", encoding: .utf8)
        let attribution = try Optimizer.optimize(try program(attributionText)).0
        let clean = try lm.encode("When John and Mary went to the store, Mary gave a drink to")
        let batch31 = Array(repeating: clean, count: 31)
        // Warm-up, then alternate so load changes hit every measurement alike.
        _ = try lm.transformer.trace(prompts: [ids]); _ = try vm.run(rw); _ = try vm.run(probe); _ = try vm.run(patching)
        _ = try unshared.run(patching)
        var kept = try vm.run(attribution).backwardBytes
        var f: [Double] = [], r: [Double] = [], p: [Double] = [], b: [Double] = [], pt: [Double] = [], pn: [Double] = [], at: [Double] = []
        for _ in 0..<repeats {
            f.append(try time { _ = try lm.transformer.trace(prompts: [ids]) })
            r.append(try time { _ = try vm.run(rw) })
            p.append(try time { _ = try vm.run(probe) })
            b.append(try time { _ = try lm.transformer.trace(prompts: batch31) })
            pt.append(try time { _ = try vm.run(patching) })
            pn.append(try time { _ = try unshared.run(patching) })
            at.append(try time { kept = try vm.run(attribution).backwardBytes })
        }
        func median(_ x: [Double]) -> Double { x.sorted()[x.count / 2] }
        let fm = median(f)
        emit("forward10", f)
        emit("trace_rw_layers10", r, extra: ["overhead_ms": String(format: "%.2f", median(r) - fm),
                                             "overhead_pct": String(format: "%.1f", (median(r) - fm) / fm * 100)])
        emit("probe_layer4", p, extra: ["fraction_of_forward": String(format: "%.2f", median(p) / fm)])
        emit("forward_batch31", b)
        emit("patching31", pt)
        emit("patching31_unshared", pn)
        emit("attribution", at, extra: ["saved_bytes": String(kept), "peak_rss_mib": String(Self.peakResidentKiB() / 1024)])
    }

    /// A large model: a 10-token trace reading every layer's output (the first run pages
    /// the weights in), decode time per token (generating 17 tokens minus generating 1,
    /// over 16), and the process's peak resident memory.
    func scaleBenchmark(_ m: Transformer) throws {
        let ids = Self.promptIds(10)
        func traceReadingEveryLayer() throws {
            let hooks = Hooks(points: m.points)
            var kept: [Tensor] = []
            for layer in m.points.layers {
                hooks.add(point: layer.output) { t, _ in kept.append(t.select(dim: 1, index: -1).copy()); return nil }
            }
            _ = try m.trace(prompts: [ids], hooks: hooks)
            precondition(kept.count == m.config.numLayers)
        }
        emit("trace10_first", [try time(traceReadingEveryLayer)])
        emit("trace10", try (0..<repeats).map { _ in try time(traceReadingEveryLayer) })
        func generate(_ n: Int) throws -> Double {
            try time { _ = try m.generate(prompts: [ids], options: SamplingOptions(maxTokens: n, stopAtEOS: false)) }
        }
        var perToken: [Double] = []
        for _ in 0..<repeats { perToken.append((try generate(17) - generate(1)) / 16) }
        emit("decode_per_token", perToken)
        let line = "{\"name\":\"peak_rss\",\"mib\":\(Self.peakResidentKiB() / 1024),\"weights\":\"\(m.weights.embed.dtype)\"}\n"
        FileHandle.standardOutput.write(Data(line.utf8))
    }

    /// VmHWM of this process, in KiB (0 where /proc is not available).
    static func peakResidentKiB() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "0") ?? 0
        }
        return 0
    }

    /// `nsi lsp` on a 1,000-line script: the time from a `didChange` sent to the server
    /// (through a pipe, with the protocol's framing) to its `publishDiagnostics` received,
    /// for edits that keep it valid and edits that make a shape error.
    func lspBenchmark() throws {
        var lines = ["param alpha: float = 0.5", "trace \"The Eiffel Tower is located in the city of\" {"]
        var k = 0
        while lines.count < 999 {
            let l = k % 30
            lines.append("    let h\(k) = model.layers[\(l)].output[0, -1] * alpha")
            lines.append("    save n\(k) = (h\(k) @ model.layers[\(l)].mlp.down_proj.weight).norm() + model.lm_head(model.norm(h\(k)))[\(k % 100)]")
            k += 1
        }
        lines.append("}")
        let text = lines.joined(separator: "\n") + "\n"
        let toServer = Pipe(), fromServer = Pipe()
        let server = LanguageServer(output: fromServer.fileHandleForWriting.fileDescriptor, environmentModel: model, log: { _ in })
        let input = toServer.fileHandleForReading.fileDescriptor
        let thread = Thread { _ = server.run(input: input) }
        thread.start()
        let reader = MessageReader(fd: fromServer.fileHandleForReading.fileDescriptor)
        func send(_ method: String, _ params: JSONValue) {
            let body = JSONValue.object([("jsonrpc", .string("2.0")), ("method", .string(method)), ("params", params)]).serialized
            toServer.fileHandleForWriting.write(Data("Content-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8))
        }
        func diagnostics() throws -> Int {
            while case .message(let body)? = reader.next() {
                let m = try JSONValue.parse(body)
                if m["method"]?.stringValue == "textDocument/publishDiagnostics" { return m["params"]?["diagnostics"]?.arrayValue?.count ?? 0 }
            }
            throw ValidationError("the server stopped")
        }
        let uri = JSONValue.string("file:///bench/lsp1000.nsi")
        send("textDocument/didOpen", .object([("textDocument", .object([("uri", uri), ("languageId", .string("nsi")), ("version", .int(1)), ("text", .string(text))]))]))
        _ = try diagnostics()
        // As an editor sends them with the incremental sync the server asks for: one line
        // replaced, alternately kept valid (a new constant) and made a shape error (an
        // index too many).
        var clean: [Double] = [], broken: [Double] = []
        var current = lines[2]
        for r in 0..<(max(repeats, 5) * 2) {
            let replacement = r % 2 == 0 ? lines[2].replacingOccurrences(of: "* alpha", with: "* \(r + 2).0")
                                         : lines[2].replacingOccurrences(of: "[0, -1] * alpha", with: "[0, -1, 700] * alpha")
            let range = JSONValue.object([("start", .object([("line", .int(2)), ("character", .int(0))])),
                                          ("end", .object([("line", .int(2)), ("character", .int(Int64(current.utf16.count)))]))])
            let start = DispatchTime.now().uptimeNanoseconds
            send("textDocument/didChange", .object([("textDocument", .object([("uri", uri), ("version", .int(Int64(r + 2)))])),
                                                     ("contentChanges", .array([.object([("range", range), ("text", .string(replacement))])]))]))
            let count = try diagnostics()
            let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            current = replacement
            if r % 2 == 0 { clean.append(ms) } else { broken.append(ms) }
            if r % 2 == 1 && count == 0 { throw ValidationError("the broken edit gave no diagnostic") }
        }
        // The first hover after a change: it records every expression's type (a second
        // check), which diagnostics do not wait for.
        var hover: [Double] = []
        for r in 0..<max(repeats, 5) {
            let replacement = lines[2].replacingOccurrences(of: "* alpha", with: "* \(r + 2).25")
            let range = JSONValue.object([("start", .object([("line", .int(2)), ("character", .int(0))])),
                                          ("end", .object([("line", .int(2)), ("character", .int(Int64(current.utf16.count)))]))])
            send("textDocument/didChange", .object([("textDocument", .object([("uri", uri), ("version", .int(Int64(500 + r)))])),
                                                     ("contentChanges", .array([.object([("range", range), ("text", .string(replacement))])]))]))
            current = replacement
            _ = try diagnostics()
            let body = JSONValue.object([("jsonrpc", .string("2.0")), ("id", .int(Int64(r + 1))), ("method", .string("textDocument/hover")),
                                         ("params", .object([("textDocument", .object([("uri", uri)])),
                                                             ("position", .object([("line", .int(900)), ("character", .int(14))]))]))]).serialized
            let start = DispatchTime.now().uptimeNanoseconds
            toServer.fileHandleForWriting.write(Data("Content-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8))
            var answered = false
            while !answered, case .message(let reply)? = reader.next() {
                if try JSONValue.parse(reply)["id"]?.intValue == r + 1 { answered = true }
            }
            guard answered else { throw ValidationError("the server stopped") }
            hover.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        // The whole text sent with each change (a client without incremental sync).
        var whole: [Double] = []
        for r in 0..<max(repeats, 5) {
            let edited = text.replacingOccurrences(of: "* alpha", with: "* \(r + 2).5")
            let start = DispatchTime.now().uptimeNanoseconds
            send("textDocument/didChange", .object([("textDocument", .object([("uri", uri), ("version", .int(Int64(1000 + r)))])),
                                                     ("contentChanges", .array([.object([("text", .string(edited))])]))]))
            _ = try diagnostics()
            whole.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        // The server's two steps alone, in this thread: parsing, and checking with types
        // recorded for hover.
        let signature = try ModelSignature.load(directory: model)
        var parse: [Double] = [], check: [Double] = [], checkTyped: [Double] = []
        for _ in 0..<max(repeats, 5) {
            var parsed: ParseResult?
            parse.append(time { parsed = Parser.parse(SourceFile(path: "lsp1000.nsi", text: text)) })
            check.append(time { _ = Checker.check(parsed!, signature: signature, buildProgram: false) })
            checkTyped.append(time { _ = Checker.check(parsed!, signature: signature, recordTypes: true, buildProgram: false) })
        }
        emitMachine()
        emit("lsp1000_parse", parse, extra: ["lines": "\(lines.count)"])
        emit("lsp1000_check", check, extra: ["lines": "\(lines.count)"])
        emit("lsp1000_check_recording_types", checkTyped, extra: ["lines": "\(lines.count)"])
        emit("lsp1000_change_to_diagnostics", clean, extra: ["lines": "\(lines.count)"])
        emit("lsp1000_change_to_error_diagnostics", broken, extra: ["lines": "\(lines.count)"])
        emit("lsp1000_whole_text_change_to_diagnostics", whole, extra: ["lines": "\(lines.count)"])
        emit("lsp1000_first_hover_after_change", hover, extra: ["lines": "\(lines.count)"])
    }

    /// The machine beside the numbers: CPU, features, BLAS core, threads.
    func emitMachine() {
        FileHandle.standardOutput.write(Data("{\"name\":\"machine\",\"summary\":\(JSONValue.quote(BLASSetup.summary))}\n".utf8))
    }

    func time(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
    }

    func emit(_ name: String, _ ms: [Double], extra: [String: String] = [:]) {
        let sorted = ms.sorted()
        let median = sorted[sorted.count / 2]
        var fields = ["\"name\":\"\(name)\"", "\"median_ms\":\(String(format: "%.2f", median))",
                      "\"runs_ms\":[\(ms.map { String(format: "%.2f", $0) }.joined(separator: ","))]"]
        for (k, v) in extra.sorted(by: { $0.key < $1.key }) { fields.append("\"\(k)\":\"\(v)\"") }
        FileHandle.standardOutput.write(Data(("{" + fields.joined(separator: ",") + "}\n").utf8))
    }
}
