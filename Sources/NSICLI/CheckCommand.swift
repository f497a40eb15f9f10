import ArgumentParser
import Foundation
import NSICheck
import NSIIR
import NSIModel
import NSIOpt
import NSI
import NSISource
import NSISyntax

/// `--param name=value`, repeatable.
struct ParamOptions: ParsableArguments {
    @Option(name: .customLong("param"), help: ArgumentHelp("Bind a param: name=value (repeatable).", valueName: "name=value"))
    var params: [String] = []

    func parsed() throws -> [String: String] {
        var out: [String: String] = [:]
        for p in params {
            guard let eq = p.firstIndex(of: "="), eq != p.startIndex else {
                throw ValidationError("--param takes name=value, got \"\(p)\"")
            }
            let name = String(p[..<eq])
            guard out[name] == nil else { throw ValidationError("--param \(name) is given twice") }
            out[name] = String(p[p.index(after: eq)...])
        }
        return out
    }
}

/// Parsing and checking a script against a model folder's signature, shared by check,
/// compile, dump and run.
enum CheckedScript {
    struct Outcome {
        var program: Program?
        var output: CommandOutput
        /// The script as read, for run-time errors shown at their source.
        var file: SourceFile? = nil
        /// What each optimizer pass did (empty with --no-optimize).
        var passes: [PassReport] = []
    }

    /// Checks the script, then (unless `optimize` is false) runs the optimizer's passes.
    static func check(path: String, modelDirectory: String, params: [String: String],
                      format: DiagnosticsFormat, color: Bool, optimize: Bool = true) -> Outcome {
        let loaded = ScriptInput.load(path: path, format: format, color: color)
        guard let parsed = loaded.result else {
            return Outcome(program: nil, output: CommandOutput(stderr: loaded.diagnostics, exitCode: 1))
        }
        let signature: ModelSignature
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: modelDirectory, isDirectory: &isDirectory), isDirectory.boolValue else {
            let hint = modelDirectory == ModelOptions.defaultDirectory ? " (make demo or Scripts/fetch-model fetches it)" : ""
            return Outcome(program: nil, output: CommandOutput(stderr: loaded.diagnostics + "error: model folder \(modelDirectory) does not exist\(hint)\n", exitCode: 1))
        }
        do {
            signature = try ModelSignature.load(directory: modelDirectory)
        } catch {
            return Outcome(program: nil, output: CommandOutput(stderr: loaded.diagnostics + "error: \(error)\n", exitCode: 1))
        }
        let base = (path as NSString).deletingLastPathComponent
        let checked = Pipeline.check(parsed, signature: signature, params: params, baseDirectory: base.isEmpty ? "." : base, optimize: optimize)
        var rendered = ScriptInput.render(checked.diagnostics, in: parsed.file, format: format, color: color)
        if let internalError = checked.internalError { rendered += "error: \(internalError)\n" }
        return Outcome(program: checked.program, output: CommandOutput(stderr: rendered, exitCode: checked.program == nil ? 1 : 0),
                       file: parsed.file, passes: checked.passes)
    }

    /// `ok: patching.nsi against smollm2-135m (llama, 30 layers): ...`
    static func summary(_ program: Program, path: String, model: String) -> String {
        let name = (path as NSString).lastPathComponent
        let modelName = (model as NSString).lastPathComponent
        let invokes = program.blocks.map(\.invokes.count).reduce(0, +)
        func plural(_ n: Int, _ w: String) -> String { "\(n) \(w)\(n == 1 ? "" : "s")" }
        var parts = [plural(program.blocks.count, "block"), plural(invokes, "invoke"), plural(program.saves.count, "save")]
        let compile = program.params.filter { $0.binding == .compileTime }.map(\.name)
        let run = program.params.filter { $0.binding == .runTime }.map(\.name)
        if !compile.isEmpty { parts.append("compile-time params: " + compile.joined(separator: ", ")) }
        if !run.isEmpty { parts.append("run-time params: " + run.joined(separator: ", ")) }
        return "ok: \(name) checks against \(modelName): " + parts.joined(separator: "; ") + "\n"
    }
}

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check a script against a model's signature: names, shapes, causality, params.",
        discussion: "Exits 0 with a one-line summary when the script is valid, 1 with every diagnostic otherwise. Reads config.json and tokenizer.json only.")

    @Argument(help: "The .nsi script.") var script: String
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var paramOptions: ParamOptions
    @OptionGroup var diagnosticsOptions: DiagnosticsOptions

    func run() throws {
        try Self.output(script: script, model: modelOptions.directory, params: try paramOptions.parsed(),
                        format: diagnosticsOptions.diagnostics, color: ScriptInput.stderrIsColorTerminal).emit()
    }

    static func output(script: String, model: String, params: [String: String], format: DiagnosticsFormat, color: Bool) -> CommandOutput {
        var outcome = CheckedScript.check(path: script, modelDirectory: model, params: params, format: format, color: color)
        if let program = outcome.program { outcome.output.stdout = CheckedScript.summary(program, path: script, model: model) }
        return outcome.output
    }
}
