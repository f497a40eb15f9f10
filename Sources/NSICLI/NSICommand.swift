import ArgumentParser
import NSI

/// The `nsi` command line: a thin front over the library targets.
public struct NSICommand: AsyncParsableCommand {
    public static let version = NSI.version

    public static let configuration = CommandConfiguration(
        commandName: "nsi",
        abstract: "Check, compile, inspect and run .nsi intervention scripts on transformer models.",
        version: version,
        subcommands: [
            DoctorCommand.self,
            InspectCommand.self,
            GenerateCommand.self,
            LogitsCommand.self,
            TokenizeCommand.self,
            SignatureCommand.self,
            CheckCommand.self,
            CompileCommand.self,
            DumpCommand.self,
            RunCommand.self,
            PlotCommand.self,
            FmtCommand.self,
            LSPCommand.self,
            ParseCommand.self,
            ServeCommand.self,
            ServeWorkerCommand.self,
            SubmitCommand.self,
            KeysCommand.self,
        ]
    )

    public init() {}
}
