import ArgumentParser
import Foundation
import NSIBytecode
import NSIIR
import NSIModel
import NSI

struct CompileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compile",
        abstract: "Check a script against a model and write its plan: compact, verified bytecode (.nsb).",
        discussion: "Compile-time params (--param) are fixed in the plan; run-time params are bound when it runs. The plan is verified as a loader would verify it before it is written.")

    @Argument(help: "The .nsi script.") var script: String
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var paramOptions: ParamOptions
    @OptionGroup var diagnosticsOptions: DiagnosticsOptions

    @Option(name: .shortAndLong, help: ArgumentHelp("The plan file (default: the script's name with .nsb).", valueName: "plan.nsb"))
    var output: String?

    @Flag(name: .customLong("no-optimize"), help: "Compile the program as checked, without the optimizer's passes.")
    var noOptimize = false

    func run() throws {
        try Self.output(script: script, model: modelOptions.directory, params: try paramOptions.parsed(), out: output, optimize: !noOptimize,
                        format: diagnosticsOptions.diagnostics, color: ScriptInput.stderrIsColorTerminal).emit()
    }

    static func defaultOutput(for script: String) -> String {
        ((script as NSString).deletingPathExtension) + "." + Bytecode.fileExtension
    }

    static func output(script: String, model: String, params: [String: String], out: String?, optimize: Bool = true,
                       format: DiagnosticsFormat, color: Bool) -> CommandOutput {
        var outcome = CheckedScript.check(path: script, modelDirectory: model, params: params, format: format, color: color, optimize: optimize)
        guard let program = outcome.program else { return outcome.output }
        let path = out ?? defaultOutput(for: script)
        do {
            let signature = try ModelSignature.load(directory: model)
            let data = try Bytecode.encode(program)
            // What a loader will do, before the file exists.
            _ = try Bytecode.decode(data, for: PlanTarget(signature))
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
            outcome.output.stdout = "wrote \(path): \(data.count) bytes, \(program.instructions.count) instructions, "
                + "\(program.saves.count) saves (\((script as NSString).lastPathComponent) against \((model as NSString).lastPathComponent))\n"
        } catch {
            outcome.output.stderr += "error: \(error)\n"
            outcome.output.exitCode = 1
        }
        return outcome.output
    }
}
