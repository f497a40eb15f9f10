import ArgumentParser
import Foundation
import NSIBytecode
import NSI
import NSIIR
import NSIModel
import NSIOpt

struct DumpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump",
        abstract: "Print a plan for review: params, batch layout, hooks in forward order, where the pass stops, saves, cost.",
        discussion: "Takes a script (checked and compiled first) or a compiled plan (.nsb, verified against the model first).")

    @Argument(help: "A .nsi script or a .nsb plan.") var input: String
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var paramOptions: ParamOptions
    @OptionGroup var diagnosticsOptions: DiagnosticsOptions

    @Flag(help: "Add the bytecode listing: offset, source line, opcode, operands, resolved constants.")
    var disasm = false

    @Flag(name: .customLong("no-optimize"), help: "Dump the program as checked, without the optimizer's passes or copy elision.")
    var noOptimize = false

    func run() throws {
        try Self.output(input: input, model: modelOptions.directory, params: try paramOptions.parsed(), disasm: disasm, optimize: !noOptimize,
                        format: diagnosticsOptions.diagnostics, color: ScriptInput.stderrIsColorTerminal).emit()
    }

    static func output(input: String, model: String, params: [String: String], disasm: Bool, optimize: Bool = true,
                       format: DiagnosticsFormat = .text, color: Bool = false) -> CommandOutput {
        var out = CommandOutput()
        let data: Data
        var passes: String?
        let signature: ModelSignature
        do {
            signature = try ModelSignature.load(directory: model)
        } catch {
            return CommandOutput(stderr: "error: \(error)\n", exitCode: 1)
        }
        let raw = FileManager.default.contents(atPath: input)
        if let raw, Bytecode.looksLikePlan(raw) {
            guard params.isEmpty else {
                return CommandOutput(stderr: "error: --param binds compile-time params; a compiled plan has them fixed\n", exitCode: 1)
            }
            data = raw
        } else {
            let outcome = CheckedScript.check(path: input, modelDirectory: model, params: params, format: format, color: color, optimize: optimize)
            out.stderr = outcome.output.stderr
            guard let program = outcome.program else { return outcome.output }
            passes = optimize ? Optimizer.summary(outcome.passes) : "passes: none (--no-optimize)"

            do {
                data = try Bytecode.encode(program)
            } catch {
                return CommandOutput(stderr: out.stderr + "error: \(error)\n", exitCode: 1)
            }
        }
        do {
            let target = PlanTarget(signature)
            let program = try Bytecode.decode(data, for: target)
            let header = try Bytecode.header(data)
            let dump = PlanDump(program: program, signature: signature, name: (input as NSString).lastPathComponent,
                                model: (model as NSString).lastPathComponent, header: header, elideCopies: optimize)
            out.stdout = dump.render()
            // The passes ran on the script; a plan's dump has no record of them.
            if let passes, let firstLine = out.stdout.firstIndex(of: "\n") {
                out.stdout.insert(contentsOf: passes + "\n", at: out.stdout.index(after: firstLine))
            }
            if disasm { out.stdout += "\nbytecode:\n" + (try Bytecode.disassemble(data, for: target)) }
        } catch {
            return CommandOutput(stderr: out.stderr + "error: \(input): \(error)\n", exitCode: 1)
        }
        return out
    }
}
