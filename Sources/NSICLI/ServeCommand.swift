import ArgumentParser
import Foundation
import NSIServer
import NSIVM

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Host models for clients: an HTTP API that runs verified plans, batching co-tenant jobs.",
        discussion: "Jobs wait in a durable queue: a SQLite file (the default), or PostgreSQL (--store postgres://...) that several servers share. API keys come from `nsi keys create`. See docs/server.md.")

    @Option(name: .long, help: ArgumentHelp("A model to host: NAME=DIR, or DIR (named by its folder). Repeatable.",
                                            discussion: "Defaults to $NSI_MODEL, else models/smollm2-135m.", valueName: "name=dir"))
    var model: [String] = []
    @Option(name: .long, help: "The address to listen on.") var host = "127.0.0.1"
    @Option(name: .long, help: "The port (0: any free one; the server prints it).") var port = 8080
    @OptionGroup var storeOptions: StoreOptions

    @Option(name: .long, help: ArgumentHelp("Largest request body (413 past it).", valueName: "size")) var maxBody = "4MB"
    @Option(name: .long, help: "Requests a second per key, on average (429 past it; 0: no limit).") var rate = 20.0
    @Option(name: .long, help: "Requests a key may make at once before --rate applies.") var burst = 40.0
    @Option(name: .long, help: "Queued or running jobs per key.") var maxQueuedPerKey = 64
    @Option(name: .long, help: "Running jobs per key at once; the rest wait, FIFO.") var maxRunningPerKey = 8
    @Option(name: .long, help: "Times a job is taken before one the server died running each time fails (error_kind crash).") var maxAttempts = 3
    @Flag(name: .long, help: "Serve /v1/metrics without an API key.") var publicMetrics = false
    @Option(name: .long, help: "Event streams a key may hold open at once; more get 429.") var maxStreamsPerKey = 16
    @Option(name: .long, help: ArgumentHelp("Close a connection that sends no part of a request (head, body chunk) for this long, or no new request (e.g. 30s).", valueName: "duration"))
    var readTimeout = "30s"
    @Option(name: .long, help: "Jobs that may share one forward pass (1: every job alone).") var maxBatch = 16
    @Option(name: .long, help: ArgumentHelp("Longest a job may run.", valueName: "duration")) var jobDeadline = "300s"
    @Option(name: .long, help: "Most tokens a job may generate.") var maxTokens = 512
    @Option(name: .long, help: ArgumentHelp("Most bytes a job may save, and store with its JSON sidecar.", valueName: "size")) var maxSaved = "256MB"
    @Option(name: .long, help: ArgumentHelp("Most work a job's forward passes may take, estimated at submission (e.g. 100T, 500G; 0: no bound).", valueName: "flops"))
    var maxFlops = "100T"
    @Option(name: .long, help: ArgumentHelp("Most bytes of results one key may hold in the store; past it submissions get 429 and results are not kept.", valueName: "size"))
    var maxStoredPerKey = "2GB"
    @Option(name: .long, help: ArgumentHelp("How long results are kept after a job ends.", valueName: "duration")) var keepResults = "24h"
    @Option(name: .long, help: ArgumentHelp("How often expired results are dropped.", valueName: "duration")) var purgeEvery = "60s"
    @Option(name: .long, help: ArgumentHelp("How long a running job's lease lasts unrenewed before another server may take it.", valueName: "duration")) var lease = "30s"
    @Flag(name: .long, help: ArgumentHelp("Run batches on a thread of this process, not in a worker process per model.",
                                          discussion: "By default each hosted model's batches run in a worker process (nsi serve-worker), so a process that dies running a job is the worker's: its jobs go back to the queue and the server keeps answering."))
    var inProcess = false
    @Option(name: .long, help: ArgumentHelp("How long past --job-deadline (times the jobs in the batch) a worker process may run a batch before it is stopped.", valueName: "duration"))
    var workerGrace = "30s"
    @Flag(name: .long, help: "Log requests and the queue's events.") var verbose = false

    func configuration() throws -> ServerConfiguration {
        var c = ServerConfiguration()
        c.host = host
        c.port = port
        c.store = storeOptions.store
        let specs = model.isEmpty ? [ModelOptions.defaultDirectory] : model
        c.models = specs.map { spec in
            if let eq = spec.firstIndex(of: "="), eq != spec.startIndex {
                return (String(spec[..<eq]), String(spec[spec.index(after: eq)...]))
            }
            let trimmed = spec.hasSuffix("/") ? String(spec.dropLast()) : spec
            return ((trimmed as NSString).lastPathComponent, spec)
        }
        func size(_ s: String, _ flag: String) throws -> Int {
            guard let v = parseByteSize(s) else { throw ValidationError("\(flag) takes a size like 4MB, 512KB or 1048576, not \(s)") }
            return v
        }
        func duration(_ s: String, _ flag: String) throws -> Double {
            guard let v = parseDuration(s) else { throw ValidationError("\(flag) takes a duration like 24h, 30m, 90s or 500ms, not \(s)") }
            return v
        }
        c.maxBodyBytes = try size(maxBody, "--max-body")
        c.requestsPerSecond = rate
        c.burst = burst
        c.maxActivePerKey = maxQueuedPerKey
        c.maxRunningPerKey = maxRunningPerKey
        c.maxAttempts = max(1, maxAttempts)
        c.publicMetrics = publicMetrics
        c.maxStreamsPerKey = max(1, maxStreamsPerKey)
        c.readTimeout = try duration(readTimeout, "--read-timeout")
        c.maxStoredBytesPerKey = try size(maxStoredPerKey, "--max-stored-per-key")
        guard maxBatch >= 1 else { throw ValidationError("--max-batch must be at least 1") }
        c.maxBatch = maxBatch
        c.jobLimits = VMLimits(maxSavedBytes: try size(maxSaved, "--max-saved"), maxGeneratedTokens: maxTokens,
                               deadline: try duration(jobDeadline, "--job-deadline"))
        guard let flops = parseCount(maxFlops) else { throw ValidationError("--max-flops takes a count like 100T, 500G or 2e12, not \(maxFlops)") }
        c.maxFLOPs = flops > 0 ? flops : nil
        c.keepResults = try duration(keepResults, "--keep-results")
        c.purgeInterval = max(0.05, try duration(purgeEvery, "--purge-every"))
        c.lease = max(1, try duration(lease, "--lease"))
        c.workerGrace = try duration(workerGrace, "--worker-grace")
        if !inProcess {
            // This executable, as the kernel has it: the path it was started by may be relative.
            let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
            c.workerCommand = [me, "serve-worker"]
        }
        return c
    }

    func run() async throws {
        let config = try configuration()
        let server: ModelServer
        do {
            server = try await ModelServer(config: config, logLevel: verbose ? .info : .warning)
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
        let names = config.models.map(\.name).joined(separator: ", ")
        let store = config.store.hasPrefix("postgres") ? "PostgreSQL" : config.store
        try await server.run(signals: [.sigterm, .sigint]) { port in
            // Tests and scripts read this line for the port.
            FileHandle.standardOutput.write(Data("nsi serve: listening on http://\(config.host):\(port) (models: \(names); queue: \(store))\n".utf8))
        }
    }
}

/// `nsi serve-worker`: what `nsi serve` runs each hosted model's batches in (see
/// `WorkerMain`); not for people, so not in the help.
struct ServeWorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve-worker", abstract: "A worker process of nsi serve.", shouldDisplay: false)
    @Option(name: .long) var name: String
    @Option(name: .long) var directory: String
    @Option(name: .long) var maxSavedBytes: Int
    @Option(name: .long) var maxRegisterBytes: Int
    @Option(name: .long) var maxGeneratedTokens: Int
    @Option(name: .long) var maxInstructions: Int
    @Option(name: .long) var deadline: Double?

    func run() throws {
        let limits = VMLimits(maxSavedBytes: maxSavedBytes, maxRegisterBytes: maxRegisterBytes, maxGeneratedTokens: maxGeneratedTokens,
                              maxInstructions: maxInstructions, deadline: deadline)
        let status = WorkerMain.run(name: name, directory: directory, limits: limits)
        if status != 0 { throw ExitCode(status) }
    }
}

/// `--store`: the queue's SQLite file or PostgreSQL URL, shared by serve and keys.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The job queue and key store: a SQLite file, or a postgres://user@host:port/db URL.",
                                            discussion: "Defaults to $NSI_STORE, else nsi-server.sqlite.", valueName: "path-or-url"))
    var store: String = ProcessInfo.processInfo.environment["NSI_STORE"] ?? "nsi-server.sqlite"
}

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Create, revoke and list the API keys of a server's store.",
        subcommands: [Create.self, Revoke.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a key; it is printed once, and the store keeps only its SHA-256.")
        @Option(name: .long, help: "Who the key is for (unique).") var name: String
        @OptionGroup var storeOptions: StoreOptions

        func run() async throws {
            try await reportingErrors {
                let store = try await JobStores.open(storeOptions.store)
                let key = APIKeys.generate()
                _ = try await store.createKey(name: name, hash: APIKeys.hash(key))
                print(key)
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key by name; requests with it get 401 from then on.")
        @Argument(help: "The key's name.") var name: String
        @OptionGroup var storeOptions: StoreOptions

        func run() async throws {
            try await reportingErrors {
                let store = try await JobStores.open(storeOptions.store)
                print(try await store.revokeKey(name: name) ? "revoked \(name)" : "\(name) was already revoked")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The keys: name, when made, whether revoked.")
        @OptionGroup var storeOptions: StoreOptions

        func run() async throws {
            try await reportingErrors {
                let store = try await JobStores.open(storeOptions.store)
                let iso = ISO8601DateFormatter()
                for k in try await store.listKeys() {
                    print("\(k.name)\tcreated \(iso.string(from: k.createdAt))" + (k.revokedAt.map { "\trevoked \(iso.string(from: $0))" } ?? ""))
                }
            }
        }
    }
}

/// Exits 1 after printing `error: ...`.
func reportingErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let e as ExitCode {
        throw e
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode.failure
    }
}
