import ArgumentParser
import Foundation
import NSIModel
import NSIRuntime

/// `--model DIR`, defaulting to `$NSI_MODEL` or models/smollm2-135m.
struct ModelOptions: ParsableArguments {
    static var defaultDirectory: String {
        ProcessInfo.processInfo.environment["NSI_MODEL"] ?? "models/smollm2-135m"
    }

    @Option(name: .long, help: ArgumentHelp("Hugging Face model folder (config.json, *.safetensors, tokenizer.json).",
                                            discussion: "Defaults to $NSI_MODEL, else models/smollm2-135m.", valueName: "dir"))
    var model: String?

    var directory: String { model ?? ModelOptions.defaultDirectory }

    func load() throws -> LanguageModel {
        let model: LanguageModel
        do {
            model = try LanguageModel(directory: directory)
        } catch {
            throw CLIError("\(error)")
        }
        let t = model.transformer
        if let warning = t.weights.unusedWarning(family: t.config.family) {
            FileHandle.standardError.write(Data("warning: \(directory): \(warning)\n".utf8))
        }
        return model
    }
}

/// An error the CLI prints as `error: message` and exits 1 on.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    /// Whether the message is printed after `error: ` (false for rendered diagnostics,
    /// which carry their own header).
    var prefixed = true
    init(_ message: String, prefixed: Bool = true) {
        description = message
        self.prefixed = prefixed
    }
}

/// Exits with status 1 after printing the error, without argument-parser's usage text.
func runReportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let e as CLIError {
        FileHandle.standardError.write(Data(((e.prefixed ? "error: " : "") + e.description + "\n").utf8))
        throw ExitCode.failure
    } catch let e as ExitCode {
        throw e
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode.failure
    }
}
