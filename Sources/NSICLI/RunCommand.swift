import ArgumentParser
import Foundation
import NSIBytecode
import NSI
import NSIIR
import NSIJSON
import NSIPlot
import NSIRuntime
import NSISource
import NSITensor
import NSIVM

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Check and run a script on a model; write the saved values to a safetensors file.",
        discussion: "Results go to --out (default results.safetensors) with a JSON sidecar beside it (prompts, token ids, generated text, shapes, timings).")

    @Argument(help: "The .nsi script, or a plan compiled by `nsi compile` (.nsb).") var script: String
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var paramOptions: ParamOptions
    @OptionGroup var diagnosticsOptions: DiagnosticsOptions

    @Option(name: .long, help: ArgumentHelp("Results file.", valueName: "file.safetensors"))
    var out = "results.safetensors"

    @Option(name: .long, help: "Stop a run that takes longer than this many seconds.")
    var deadline: Double?

    @Flag(name: .long, help: "Print nothing but errors.")
    var quiet = false

    @Option(name: .long, help: ArgumentHelp("Also draw the results into this folder: an SVG figure per indexed series or 2-D value (see `nsi plot`).", valueName: "dir"))
    var plot: String?

    @Flag(name: .customLong("no-optimize"), help: "Run the program as checked, without the optimizer's passes or copy elision.")
    var noOptimize = false

    @Flag(name: .customLong("no-share"), help: "Compute every row of a trace from the start (no shared prefixes between rows with the same prompt).")
    var noShare = false

    func run() throws {
        let params = try paramOptions.parsed()
        if script.hasSuffix("." + Bytecode.fileExtension) { return try runPlan(params) }
        var checked = CheckedScript.check(path: script, modelDirectory: modelOptions.directory, params: params,
                                          format: diagnosticsOptions.diagnostics, color: ScriptInput.stderrIsColorTerminal,
                                          optimize: !noOptimize)
        guard let program = checked.program else { return try checked.output.emit() }
        checked.output.exitCode = 0
        try checked.output.emit()   // warnings
        try runReportingErrors {
            let model = try modelOptions.load()
            let vm = VM(model: model, limits: VMLimits(deadline: deadline), elideCopies: !noOptimize, sharePrefixes: !noShare)
            let interactive = !quiet && ScriptInput.stderrIsColorTerminal
            let progress: ((String) -> Void)? = !interactive ? nil : { line in
                FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8))
            }
            let results: RunResults
            do {
                results = try vm.run(program, progress: progress)
            } catch let e as VMError {
                if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
                guard let file = checked.file, let shown = Self.render(e, in: file, format: diagnosticsOptions.diagnostics,
                                                                       color: ScriptInput.stderrIsColorTerminal) else {
                    throw CLIError("\(script):\(e)")
                }
                throw CLIError(shown, prefixed: false)
            }
            if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            try ResultsFile.write(results, to: out, script: script, model: model.directory)
            if !quiet { print(Self.summary(results, model: model, out: out), terminator: "") }
            try drawFigures(results, model: model)
        }
    }

    /// `--plot DIR`: the figures `nsi plot` draws, with the first prompt's tokens as labels.
    func drawFigures(_ results: RunResults, model: LanguageModel) throws {
        guard let plot else { return }
        let saved = ResultsFile.tensors(results).map { SavedValue(name: $0.0, shape: $0.1.shape, values: $0.1.cast(to: .f32).toFloats().map(Double.init)) }
        let tokens = results.blocks.first?.tokenIds.first.map { $0.map { (try? model.decode([$0])) ?? "?" } }
        let figures = Figures.make(saved, tokens: tokens)
        try FileManager.default.createDirectory(atPath: plot, withIntermediateDirectories: true)
        for f in figures { try PlotCommand.write(f.svg, to: (plot as NSString).appendingPathComponent(Figures.fileName(f.name) + ".svg")) }
        if !quiet { print("drew \(figures.count) figure\(figures.count == 1 ? "" : "s") in \(plot)") }
    }

    /// A run-time error shown like a compile error, at the statement that failed: its code
    /// (E07xx), the line, underlined. Nil when the error has no place in the script.
    static func render(_ e: VMError, in file: SourceFile, format: DiagnosticsFormat, color: Bool) -> String? {
        guard let span = e.span, span.start >= 0, span.start <= span.end, span.end <= file.bytes.count else { return nil }
        let d = Diagnostic(code: DiagnosticCode(e.code), severity: .error, message: e.message,
                           primary: Label(SourceRange(start: span.start, end: span.end)))
        return ScriptInput.render([d], in: file, format: format, color: color).trimmingCharacters(in: .newlines)
    }

    /// Runs a compiled plan: verified against the model before anything runs; run-time
    /// params may be bound, compile-time ones are fixed in the plan.
    func runPlan(_ params: [String: String]) throws {
        try runReportingErrors {
            guard let data = FileManager.default.contents(atPath: script) else { throw CLIError("cannot read \(script)") }
            let model = try modelOptions.load()
            let program: Program
            do {
                program = try Bytecode.decode(data, for: PlanTarget(model.signature))
            } catch {
                throw CLIError("\(script): \(error)")
            }
            do throws(BindingError) {
                try Pipeline.checkBindings(params.keys, program: program) { "compile again with --param \($0)=\(params[$0] ?? "")" }
            } catch {
                throw CLIError(error.message)
            }
            let bound = params.mapValues { RunValue.str($0) }
            let vm = VM(model: model, limits: VMLimits(deadline: deadline), elideCopies: !noOptimize, sharePrefixes: !noShare)
            let results: RunResults
            do {
                results = try vm.run(program, params: bound)
            } catch let e as VMError {
                throw CLIError("\(script):\(e)")
            }
            try ResultsFile.write(results, to: out, script: script, model: model.directory)
            if !quiet { print(Self.summary(results, model: model, out: out), terminator: "") }
            try drawFigures(results, model: model)
        }
    }

    /// Names, shapes, a few values; the top tokens of a vocabulary-sized row.
    static func summary(_ results: RunResults, model: LanguageModel, out: String) -> String {
        var lines: [String] = []
        for b in results.blocks {
            if let text = b.generatedText {
                for (p, t) in zip(b.prompts, text) { lines.append("generated: \(JSONValue.quote(p)) -> \(JSONValue.quote(t))") }
            }
        }
        let vocab = model.transformer.config.vocabSize
        // Indexed scalars (`save p[l] = ...`, three or more) as one sparkline each, where
        // the first of them would be listed.
        var series: [String: [(Int, Double)]] = [:]
        for (key, v) in results.values {
            guard let t = v.tensor, t.count == 1, let dot = key.lastIndex(of: "."), let k = Int(key[key.index(after: dot)...]) else { continue }
            series[String(key[..<dot]), default: []].append((k, Double(t.cast(to: .f32).toFloats()[0])))
        }
        series = series.filter { $0.value.count >= 3 }
        var shown = Set<String>()
        for (key, v) in results.values {
            if let dot = key.lastIndex(of: "."), let s = series[String(key[..<dot])], Int(key[key.index(after: dot)...]) != nil, v.tensor?.count == 1 {
                let base = String(key[..<dot])
                if shown.insert(base).inserted {
                    let sorted = s.sorted { $0.0 < $1.0 }
                    lines.append("\(base)[\(sorted.first!.0)...\(sorted.last!.0)]: \(sparkline(sorted.map(\.1)))")
                }
                continue
            }
            switch v {
            case .str(let s): lines.append("\(key): \(JSONValue.quote(s))")
            case .strings(let s): lines.append("\(key): [" + s.map(JSONValue.quote).joined(separator: ", ") + "]")
            case .topk(let values, let indices):
                var line = "\(key): topk \(describeShape(values.shape))"
                if values.rank == 1 {
                    let pairs = zip(indices.toInts(), values.toFloats()).prefix(10).map { id, v in
                        "\(JSONValue.quote((try? model.decode([id])) ?? "?"))=\(String(format: "%.3f", v))"
                    }
                    line += " " + pairs.joined(separator: " ")
                }
                lines.append(line)
            default:
                guard let t = v.tensor else { continue }
                var line = "\(key): \(t.dtype.rawValue)\(describeShape(t.shape))"
                let flat: Tensor = t.contiguous().reshape([t.count])
                let values: [Float] = flat.slice(dim: 0, end: 6).toFloats()
                let texts: [String] = values.map { (x: Float) -> String in t.dtype.isInteger ? String(Int(x)) : String(format: "%.4g", Double(x)) }
                line += " " + texts.joined(separator: " ") + (t.count > 6 ? " ..." : "")
                if t.rank == 1 && t.count == vocab && t.dtype == .f32 {
                    let (_, idx) = t.topk(5)
                    line += "  top: " + idx.toInts().map { JSONValue.quote((try? model.decode([$0])) ?? "?") }.joined(separator: " ")
                }
                lines.append(line)
            }
        }
        for (i, b) in results.blocks.enumerated() {
            guard let s = b.sharing, s.tokenLayersTotal > 0 else { continue }
            lines.append(String(format: "block %d: shared prefixes: %d of %d token-layers computed (%.0f%% saved)", i,
                                s.tokenLayersComputed, s.tokenLayersTotal, 100 * Double(s.tokenLayersTotal - s.tokenLayersComputed) / Double(s.tokenLayersTotal)))
        }
        if results.backwardBytes > 0 {
            lines.append(String(format: "reverse pass: %.1f MB of activations kept for it", Double(results.backwardBytes) / 1e6))
        }
        lines.append(String(format: "wrote %@ (%d values) in %.0f ms", out, results.values.count, results.milliseconds))
        return lines.joined(separator: "\n") + "\n"
    }
}
