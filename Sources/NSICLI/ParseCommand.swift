import ArgumentParser
import NSISource
import NSISyntax

/// `nsi parse FILE`: the syntax tree, for debugging the front end.
struct ParseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parse",
        abstract: "Print the syntax tree of a script, with source ranges.",
        discussion: "Exits with status 1, printing every diagnostic, when the script has syntax errors."
    )

    @Argument(help: "The .nsi script.")
    var file: String

    @Flag(name: .long, help: "Leave out the source ranges (line:col-line:col).")
    var noRanges = false

    @OptionGroup var options: DiagnosticsOptions

    func run() throws {
        try ParseCommand.execute(file: file, ranges: !noRanges, format: options.diagnostics,
                                 color: ScriptInput.stderrIsColorTerminal).emit()
    }

    static func execute(file: String, ranges: Bool, format: DiagnosticsFormat, color: Bool) -> CommandOutput {
        let loaded = ScriptInput.load(path: file, format: format, color: color)
        guard let result = loaded.result else {
            return CommandOutput(stderr: loaded.diagnostics, exitCode: 1)
        }
        let dump = ASTDump.render(result.script, in: result.file, includeRanges: ranges)
        return CommandOutput(stdout: dump, stderr: loaded.diagnostics)
    }
}
