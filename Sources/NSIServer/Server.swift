import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import UnixSignals
import NSIVM

/// The model server: loads each hosted model once, opens the queue, serves the HTTP API,
/// and runs one worker per model plus a purge of expired results.
public final class ModelServer: Sendable {
    public let config: ServerConfiguration
    public let store: any JobStore
    let models: [String: HostedModel]
    let modelOrder: [String]
    let limiter: RateLimiter
    let metrics = Metrics()
    /// Wakes event streams when this server changes a job.
    let signal = JobSignal()
    /// Event streams open per key.
    let openStreams = Locked([Int64: Int]())
    let logger: Logger
    private let group = Locked<ServiceGroup?>(nil)

    /// Loads the models and opens (and migrates) the store.
    public init(config: ServerConfiguration, logLevel: Logger.Level = .warning) async throws {
        guard !config.models.isEmpty else { throw ServerSetupError("no model to host (--model NAME=DIR)") }
        var logger = Logger(label: "nsi.serve")
        logger.logLevel = logLevel
        self.logger = logger
        self.config = config
        var models: [String: HostedModel] = [:]
        for (name, directory) in config.models {
            guard models[name] == nil else { throw ServerSetupError("two models are named \(name)") }
            do {
                models[name] = try HostedModel(name: name, directory: directory, limits: config.jobLimits)
            } catch {
                throw ServerSetupError("cannot load model \(name) from \(directory): \(error)")
            }
        }
        self.models = models
        // A worker process that died leaves a pipe with no reader: writing to it must fail
        // with EPIPE, not end the server.
        if config.workerCommand != nil { Glibc.signal(SIGPIPE, SIG_IGN) }
        modelOrder = config.models.map(\.name)
        limiter = RateLimiter(rate: config.requestsPerSecond, burst: config.burst)
        do {
            store = try await JobStores.open(config.store)
        } catch {
            throw ServerSetupError("cannot open the job store: \(error)")
        }
    }

    /// Serves until the task is cancelled (or, with `signals`, until one arrives).
    /// `onListening` gets the port once the server accepts connections.
    public func run(signals: [UnixSignal] = [], onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        if config.requeueRunningOnStart ?? !config.isPostgres {
            let n = try await store.requeueRunning(maxAttempts: config.maxAttempts)
            if n > 0 { logger.notice("queued \(n) jobs again that were running when the server stopped") }
        }
        let router = Router()
        addRoutes(to: router)
        var appLogger = Logger(label: "nsi.http")
        appLogger.logLevel = logger.logLevel
        let app = Application(router: router,
                              server: .http1(configuration: .init(idleTimeout: .milliseconds(Int64(max(0.01, config.readTimeout) * 1000)))),
                              configuration: .init(address: .hostname(config.host, port: config.port), serverName: "nsi"),
                              onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
                              logger: appLogger)
        let directories = Dictionary(config.models.map { ($0.name, $0.directory) }, uniquingKeysWith: { a, _ in a })
        let workers = modelOrder.map {
            ModelWorker(model: models[$0]!, directory: directories[$0]!, store: store, config: config, metrics: metrics, logger: logger, signal: signal)
        }
        defer { for w in workers { w.stop() } }
        try await withThrowingTaskGroup(of: Void.self) { group in
            let services = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: signals, logger: appLogger))
            self.group.withLock { $0 = services }
            group.addTask { try await services.run() }
            for w in workers { group.addTask { await w.run() } }
            group.addTask { try await self.purgeLoop() }
            // The HTTP service ends first (a signal, or cancellation); the rest follow it.
            try await group.next()
            group.cancelAll()
        }
    }

    /// Stops accepting requests, finishes those in flight, and ends `run`.
    public func shutdown() async {
        await group.withLock { $0 }?.triggerGracefulShutdown()
    }

    func purgeLoop() async throws {
        while !Task.isCancelled {
            do {
                let n = try await store.purgeResults(finishedBefore: Date().addingTimeInterval(-config.keepResults))
                if n > 0 { logger.info("dropped the results of \(n) jobs older than \(config.keepResults) s") }
            } catch {
                logger.error("purge: \(error)")
            }
            try await Task.sleep(for: .seconds(config.purgeInterval))
        }
    }

    /// The routes the server registers, for the OpenAPI test.
    public func routeList() -> [String] {
        let router = Router()
        addRoutes(to: router)
        return router.routes.map { "\($0.method) \($0.path)" }
    }
}
