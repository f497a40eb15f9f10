import ArgumentParser
import Foundation
import NSISource
import NSISyntax
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How diagnostics are printed: for people, or as JSON lines for editors.
public enum DiagnosticsFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case text
    case json
}

/// The options of every command that reads a script.
public struct DiagnosticsOptions: ParsableArguments {
    @Option(name: .long, help: "Print diagnostics as text (for people) or json (one object per line, for editors).")
    public var diagnostics: DiagnosticsFormat = .text

    public init() {}
}

/// What a command produced: its output, its diagnostics and its exit status. Commands
/// build one and tests read it, so no test needs a subprocess.
public struct CommandOutput: Sendable, Equatable {
    public var stdout = ""
    public var stderr = ""
    public var exitCode: Int32 = 0

    public init(stdout: String = "", stderr: String = "", exitCode: Int32 = 0) {
        self.stdout = stdout
        self.stderr = stderr
        self.exitCode = exitCode
    }

    /// Writes both streams and exits with the status when it is not 0.
    public func emit() throws {
        if !stdout.isEmpty { FileHandle.standardOutput.write(Data(stdout.utf8)) }
        if !stderr.isEmpty { FileHandle.standardError.write(Data(stderr.utf8)) }
        if exitCode != 0 { throw ExitCode(exitCode) }
    }
}

/// Reading a script for a command: read the file, parse it, and render its diagnostics.
/// A script with errors stops the command (exit status 1) after every diagnostic is
/// printed; warnings are printed and the command goes on.
public enum ScriptInput {
    public struct Loaded: Sendable {
        /// Nil when the file could not be read or the script has errors.
        public var result: ParseResult?
        /// The diagnostics, rendered (or the read error), for stderr.
        public var diagnostics: String
    }

    /// Reads and parses `path`. Later stages (check, compile, run) start here too.
    public static func load(path: String, format: DiagnosticsFormat, color: Bool) -> Loaded {
        let file: SourceFile
        do {
            file = SourceFile(path: path, bytes: Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        } catch {
            return Loaded(result: nil, diagnostics: "error: cannot read \(path): \(readFailure(error))\n")
        }
        let result = Parser.parse(file)
        let rendered = render(result.diagnostics, in: file, format: format, color: color)
        return Loaded(result: result.hasErrors ? nil : result, diagnostics: rendered)
    }

    public static func render(_ diagnostics: [Diagnostic], in file: SourceFile, format: DiagnosticsFormat, color: Bool) -> String {
        switch format {
        case .json:
            return JSONRenderer().render(diagnostics, in: file)
        case .text:
            return TextRenderer(useColor: color).report(diagnostics, in: file)
        }
    }

    /// Color only on a terminal, and never when NO_COLOR is set.
    public static var stderrIsColorTerminal: Bool {
        isatty(STDERR_FILENO) != 0 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
    }

    private static func readFailure(_ error: any Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return nsError.localizedDescription
    }
}
