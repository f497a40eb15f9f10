import ArgumentParser
import Foundation
import NSIModel

struct SignatureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signature",
        abstract: "Print what scripts are checked against: dimensions, access points with shapes, callable modules, hash.",
        discussion: "Reads config.json and tokenizer.json only; no weights are loaded.")

    @OptionGroup var modelOptions: ModelOptions

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        try runReportingErrors { print(try Self.render(directory: modelOptions.directory, json: json), terminator: "") }
    }

    static func render(directory: String, json: Bool) throws -> String {
        guard FileManager.default.fileExists(atPath: directory + "/config.json") else {
            throw CLIError("\(directory) has no config.json (expected a Hugging Face model folder)")
        }
        let signature = try ModelSignature.load(directory: directory)
        return json ? signature.json() : signature.canonicalText()
    }
}
