import ArgumentParser
import Foundation
import NSISource
import NSISyntax

/// `nsi fmt FILE...`: the canonical formatting of scripts.
struct FmtCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fmt",
        abstract: "Print scripts in canonical formatting.",
        discussion: "Prints the formatted scripts to stdout, or with --write rewrites the files in place. "
            + "With --check, prints only the names of files that would change and exits with status 1 "
            + "if there are any. A script with syntax errors is not formatted: its diagnostics are "
            + "printed and the exit status is 1."
    )

    enum Mode: Sendable {
        case print, write, check
    }

    @Argument(help: "The .nsi scripts.")
    var files: [String]

    @Flag(name: .long, help: "Rewrite each file in place.")
    var write = false

    @Flag(name: .long, help: "Exit with status 1 if any file is not formatted; change nothing.")
    var check = false

    @OptionGroup var options: DiagnosticsOptions

    func validate() throws {
        if write && check { throw ValidationError("--write and --check cannot be used together.") }
    }

    func run() throws {
        let mode: Mode = write ? .write : check ? .check : .print
        try FmtCommand.execute(files: files, mode: mode, format: options.diagnostics,
                               color: ScriptInput.stderrIsColorTerminal).emit()
    }

    static func execute(files: [String], mode: Mode, format: DiagnosticsFormat, color: Bool) -> CommandOutput {
        var output = CommandOutput()
        for path in files {
            let loaded = ScriptInput.load(path: path, format: format, color: color)
            output.stderr += loaded.diagnostics
            guard let result = loaded.result else {
                output.exitCode = 1
                continue
            }
            let formatted = ScriptFormatter.format(result)
            let changed = Array(formatted.utf8) != result.file.bytes
            switch mode {
            case .print:
                output.stdout += formatted
            case .check:
                if changed {
                    output.stderr += "\(path) would be reformatted\n"
                    output.exitCode = 1
                }
            case .write:
                guard changed else { continue }
                do {
                    try Data(formatted.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
                } catch {
                    output.stderr += "error: cannot write \(path): \(error.localizedDescription)\n"
                    output.exitCode = 1
                }
            }
        }
        return output
    }
}
