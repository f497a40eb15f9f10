import Foundation
import Logging
import NSIIR
import NSIVM

/// One worker per hosted model: it claims the next jobs (FIFO within per-key limits),
/// groups those that can share a forward pass, runs each group on its own thread, and
/// stores the results. VM work never runs on the event loops.
final class ModelWorker: Sendable {
    let model: HostedModel
    let store: any JobStore
    let config: ServerConfiguration
    let metrics: Metrics
    let logger: Logger
    /// Bumped after every change this worker makes to a job (see `JobSignal`).
    let signal: JobSignal
    /// The VM's thread: batches of one model run one after another (here, or in the worker
    /// process, waited for here).
    let queue: DispatchQueue
    /// The worker process batches run in; nil: on `queue`, in this process.
    let process: WorkerProcess?

    init(model: HostedModel, directory: String, store: any JobStore, config: ServerConfiguration, metrics: Metrics, logger: Logger,
         signal: JobSignal = JobSignal()) {
        self.model = model
        process = config.workerCommand.map {
            WorkerProcess(command: $0, name: model.name, directory: directory, limits: config.jobLimits, grace: config.workerGrace)
        }
        self.store = store
        self.config = config
        self.metrics = metrics
        self.logger = logger
        self.signal = signal
        queue = DispatchQueue(label: "nsi.vm.\(model.name)")
    }

    func run() async {
        while !Task.isCancelled {
            do {
                let jobs = try await store.claim(model: model.name, worker: config.workerID, limit: config.maxBatch,
                                                 perKeyRunning: config.maxRunningPerKey, leaseUntil: Date().addingTimeInterval(config.lease),
                                                 maxAttempts: config.maxAttempts)
                if !jobs.isEmpty { signal.bump() }
                if jobs.isEmpty {
                    try await Task.sleep(for: .seconds(config.pollInterval))
                    continue
                }
                try await runClaimed(jobs)
            } catch is CancellationError {
                return
            } catch {
                logger.error("worker \(model.name): \(error)")
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Verifies every claimed plan again (the bytes came from the store), then runs them in
    /// groups that can share a forward pass.
    func runClaimed(_ jobs: [JobRecord]) async throws {
        var ready: [(JobRecord, BatchJob)] = []
        for job in jobs {
            do {
                let program = try PlanRunner.verify(job.plan, for: model)
                ready.append((job, BatchJob(program: program, params: try PlanRunner.bind(program, params: job.params))))
            } catch {
                metrics.run(outcome: "failed")
                try await store.fail(id: job.id, message: error.description, kind: error.kind, batchSize: nil)
                signal.bump()
            }
        }
        var groups: [[(JobRecord, BatchJob)]] = []
        for item in ready {
            // A job taken before (its server died running it) runs alone: if it is what
            // killed the server, it takes no co-tenant down again, and a harmless job
            // batched with it the first time completes.
            if item.0.attempts > 1 {
                groups.append([item])
                continue
            }
            if let g = groups.firstIndex(where: { $0.count < config.maxBatch && $0.allSatisfy { $0.0.attempts <= 1 && PlanRunner.canShare($0.1.program, item.1.program) } }) {
                groups[g].append(item)
            } else {
                groups.append([item])
            }
        }
        for group in groups { try await runGroup(group) }
    }

    func runGroup(_ group: [(JobRecord, BatchJob)]) async throws {
        let ids = group.map(\.0.id)
        let jobs = group.map(\.1)
        // Leases renewed and cancel requests read while the batch runs.
        let cancelled = Locked(Set<String>())
        let watcher = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(min(1, config.lease / 3)))
                try? await store.renewLeases(worker: config.workerID, until: Date().addingTimeInterval(config.lease))
                for (id, job) in zip(ids, jobs) where !cancelled.withLock({ $0.contains(id) }) {
                    if let j = try? await store.job(id: id), j.cancelRequested {
                        cancelled.withLock { _ = $0.insert(id) }
                        job.cancellation.cancel()
                        if let index = ids.firstIndex(of: id) { self.process?.cancel(index) }
                    }
                }
            }
        }
        defer { watcher.cancel() }
        let lastProgress = Locked([Int: Double]())
        let progress: @Sendable (Int, String) -> Void = { index, line in
            let now = Date().timeIntervalSince1970
            let due = lastProgress.withLock { last -> Bool in
                if now - (last[index] ?? 0) < 0.1 { return false }
                last[index] = now
                return true
            }
            if due {
                Task { [store = self.store, signal = self.signal] in
                    try? await store.setProgress(id: ids[index], line)
                    signal.bump()
                }
            }
        }
        let model = self.model
        let start = Date()
        let process = self.process
        let workerJobs = group.map { WorkerJob(name: $0.0.name, plan: $0.0.plan, params: $0.0.params) }
        let names = group.map(\.0.name)
        let ran: Result<[JobOutcome], WorkerDied> = await withCheckedContinuation { continuation in
            let box = UncheckedBox(jobs)
            queue.async {
                if let process {
                    continuation.resume(returning: Result { () throws(WorkerDied) in try process.run(workerJobs, progress: progress) })
                } else {
                    let results = PlanRunner.runBatch(box.value, on: model, progress: progress)
                    continuation.resume(returning: .success(zip(results, names).map { JobOutcome($0, name: $1, model: model.name, maxSavedBytes: model.vm.limits.maxSavedBytes) }))
                }
            }
        }
        metrics.batch(size: group.count, seconds: Date().timeIntervalSince(start))
        defer { signal.bump() }
        let outcomes: [JobOutcome]
        switch ran {
        case .success(let o): outcomes = o
        case .failure(let died):
            metrics.workerExit()
            logger.error("worker \(model.name): \(died) (jobs \(ids.joined(separator: ", ")))")
            try await requeueOrFail(group.map(\.0), cancelled: cancelled.withLock { $0 }, because: died)
            return
        }
        for ((job, _), outcome) in zip(group, outcomes) {
            var cancel = cancelled.withLock { $0.contains(job.id) }
            if !cancel { cancel = (try? await store.job(id: job.id))?.cancelRequested == true }
            if cancel {
                metrics.run(outcome: "cancelled")
                try await store.markCancelled(id: job.id)
                continue
            }
            switch outcome {
            case .results(let stored):
                do {
                    let held = try await store.storedBytes(keyID: job.keyID)
                    let size = stored.safetensors.count + stored.sidecar.utf8.count
                    if held + size > config.maxStoredBytesPerKey {
                        metrics.run(outcome: "failed")
                        try await store.fail(id: job.id, message: "\(job.name): its results (\(size) bytes) would bring this key's stored results to \(held + size) bytes, "
                                             + "past the limit of \(config.maxStoredBytesPerKey); they were not kept", kind: .storedBytes, batchSize: group.count)
                        continue
                    }
                    try await store.complete(id: job.id, results: stored, batchSize: group.count)
                    metrics.run(outcome: "completed")
                } catch {
                    metrics.run(outcome: "failed")
                    try await store.fail(id: job.id, message: "cannot store the results: \(error)", kind: .storage, batchSize: group.count)
                }
            case .failed(let message, let kind):
                metrics.run(outcome: "failed")
                try await store.fail(id: job.id, message: message, kind: kind, batchSize: group.count)
            }
        }
    }

    /// The jobs of a batch whose worker process died: each goes back to the queue, to run
    /// alone next (see `ClaimPolicy`), unless it was cancelled or has had its attempts; then
    /// it fails as `crash`, with how the worker ended.
    func requeueOrFail(_ jobs: [JobRecord], cancelled: Set<String>, because died: WorkerDied) async throws {
        for job in jobs {
            var cancel = cancelled.contains(job.id)
            if !cancel { cancel = (try? await store.job(id: job.id))?.cancelRequested == true }
            if cancel {
                metrics.run(outcome: "cancelled")
                try await store.markCancelled(id: job.id)
            } else if job.attempts >= config.maxAttempts {
                metrics.run(outcome: "failed")
                let times = job.attempts == 1 ? "once" : "on each of its \(job.attempts) attempts"
                try await store.fail(id: job.id, message: "\(job.name): \(died) \(times); it is not run again", kind: .crash,
                                     batchSize: jobs.count)
            } else {
                try await store.requeue(id: job.id)
            }
        }
    }

    /// Stops the worker process, if there is one.
    func stop() { process?.stop() }
}

extension JobFailure {
    /// The kind of a run's failure.
    init(_ e: VMError) {
        switch e.kind {
        case .limit(let which): self.init("limit.\(which.rawValue)")
        case .cancelled: self.init("cancelled")
        case .param: self.init("param")
        case .mismatch: self.init("plan")
        case .input: self.init("input")
        case .internal: self.init("internal")
        }
    }
}

/// Carries a value the compiler cannot prove Sendable onto the VM's thread, which is its only user.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
