import NSIClient
import ArgumentParser
import Foundation
import NSIBytecode
import NSIServer

struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Run a script or plan on a server's model; write the same results file as `nsi run`.",
        discussion: "Shows the queue position and progress on stderr. The key comes from --key or $NSI_API_KEY.")

    @Argument(help: "The .nsi script, or a plan compiled by `nsi compile` (.nsb).") var script: String
    @Option(name: .long, help: ArgumentHelp("The server.", valueName: "url")) var server: String
    @Option(name: .long, help: "The hosted model (needed when the server hosts several).") var model: String?
    @OptionGroup var paramOptions: ParamOptions
    @Option(name: .long, help: ArgumentHelp("Results file.", valueName: "file.safetensors")) var out = "results.safetensors"
    @Option(name: .long, help: "The API key (default: $NSI_API_KEY).") var key: String?
    @Flag(name: .long, help: "Poll the job's status instead of following its event stream.") var poll = false
    @Flag(name: .long, help: "Print nothing but errors.") var quiet = false

    func run() async throws {
        try await reportingErrors {
            let key = self.key ?? ProcessInfo.processInfo.environment["NSI_API_KEY"]
            guard let key, !key.isEmpty else { throw ValidationError("no API key: give --key or set NSI_API_KEY") }
            guard let data = FileManager.default.contents(atPath: script) else { throw ClientError("cannot read \(script)") }
            let client = try ServerClient(server: server, key: key)
            let params = try paramOptions.parsed()
            let isPlan = script.hasSuffix("." + Bytecode.fileExtension)
            let submitted = isPlan
                ? try await client.submit(plan: data, name: script, model: model, params: params)
                : try await client.submit(script: String(decoding: data, as: UTF8.self), name: script, model: model, params: params)
            let interactive = !quiet && isatty(STDERR_FILENO) != 0
            let quiet = self.quiet
            let show: @Sendable (String) -> Void = { line in
                guard !quiet else { return }
                FileHandle.standardError.write(Data((interactive ? "\r\u{1B}[K" + line : line + "\n").utf8))
            }
            show("job \(submitted.id): \(Self.describe(submitted))")
            let final = try await client.follow(submitted.id, stream: !poll) { job in show("job \(job.id): \(Self.describe(job))") }
            if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            guard final.state == "completed" else {
                throw ClientError("job \(final.id) \(final.state)" + (final.error.map { ": \($0)" } ?? ""))
            }
            let (results, sidecar) = try await client.results(final.id)
            try ServerClient.write(results: results, sidecar: sidecar, to: out)
            if !quiet { print("wrote \(out) (\(results.count) bytes; job \(final.id) on \(final.model), batch of \(final.batchSize ?? 1))") }
        }
    }

    static func describe(_ job: ServerClient.Job) -> String {
        switch job.state {
        case "queued": return "queued" + (job.position.map { ", position \($0)" } ?? "")
        case "running": return "running" + (job.progress.map { ": \($0)" } ?? "")
        default: return job.state + (job.error.map { ": \($0)" } ?? "")
        }
    }
}
