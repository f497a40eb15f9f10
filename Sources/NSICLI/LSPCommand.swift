import ArgumentParser
import Foundation
import NSILSP

/// `nsi lsp`: the language server, over stdin and stdout.
struct LSPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lsp",
        abstract: "Serve the Language Server Protocol over stdin and stdout (for editors).",
        discussion: "Checks open scripts as they change against a model's signature (config.json and tokenizer.json; "
            + "no weight is read) and offers diagnostics, hover types and shapes, completion of access points, "
            + "definitions, references, symbols, formatting and quick fixes. The model is the client's nsi.model "
            + "setting, --model, NSI_MODEL, or model = \"path\" in the nearest nsi.toml; without one, syntax errors only. "
            + "See docs/editors.md."
    )

    @Option(name: .long, help: "Hugging Face model folder to check against (else the client's setting, NSI_MODEL or nsi.toml).")
    var model: String?

    func run() throws {
        let server = LanguageServer(output: STDOUT_FILENO, environmentModel: model ?? ProcessInfo.processInfo.environment["NSI_MODEL"])
        let status = server.run(input: STDIN_FILENO)
        throw ExitCode(status)
    }
}
