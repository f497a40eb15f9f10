import Foundation
import NSIClient

/// One job as the queue holds it: a verified plan, its run-time params, and what became of it.
public struct JobRecord: Sendable, Equatable {
    public var id: String
    /// Submission order; FIFO is by this number.
    public var seq: Int64
    public var keyID: Int64
    public var model: String
    /// The name the client gave its script or plan; it goes into the results' JSON sidecar.
    public var name: String
    /// The verified plan (.nsb bytes), exactly as it will run.
    public var plan: Data
    /// Run-time params, name to text.
    public var params: [String: String]
    public var state: JobState
    public var error: String?
    /// What kind of failure `error` is (`JobFailure`), for clients to act on without
    /// reading the message.
    public var errorKind: String?
    public var progress: String?
    public var cancelRequested: Bool
    public var createdAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    /// How many jobs ran in the forward pass this one ran in.
    public var batchSize: Int?
    public var hasResults: Bool
    public var resultsExpired: Bool
    /// The server process that ran (or runs) the job.
    public var worker: String?
    /// How many times a worker claimed the job, this time included (more than 1 after a
    /// server or a worker process died running it).
    public var attempts: Int
}

/// What a client submits, after the server has verified it.
public struct NewJob: Sendable {
    public var id = UUID().uuidString.lowercased()
    public var keyID: Int64
    public var model: String
    public var name: String
    public var plan: Data
    public var params: [String: String]

    public init(keyID: Int64, model: String, name: String, plan: Data, params: [String: String]) {
        self.keyID = keyID
        self.model = model
        self.name = name
        self.plan = plan
        self.params = params
    }
}

/// An API key as stored: never the key itself, only its SHA-256.
public struct KeyRecord: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var createdAt: Date
    public var revokedAt: Date?
}

/// A job's results: the safetensors bytes and the JSON sidecar, exactly as `nsi run` writes them.
public struct StoredResults: Sendable {
    public var safetensors: Data
    public var sidecar: String
}

public enum JobStoreError: Error, CustomStringConvertible, Sendable {
    /// The key already has this many active jobs.
    case quotaExceeded(active: Int, limit: Int)
    case duplicateKeyName(String)
    case noSuchKey(String)

    public var description: String {
        switch self {
        case .quotaExceeded(let active, let limit): return "this key has \(active) queued or running jobs; the limit is \(limit)"
        case .duplicateKeyName(let n): return "a key named \"\(n)\" already exists"
        case .noSuchKey(let n): return "no key named \"\(n)\""
        }
    }
}

/// The durable queue and results, shared by every server process that uses the same store.
/// Claims are atomic: a job is handed to one worker once. A worker holds its running jobs
/// under a lease it renews; a job whose lease ran out (its server died) is queued again.
public protocol JobStore: Sendable {
    /// Creates the tables when they are missing.
    func migrate() async throws

    func createKey(name: String, hash: String) async throws -> KeyRecord
    /// Revokes the key named `name`; false when it was already revoked.
    func revokeKey(name: String) async throws -> Bool
    func listKeys() async throws -> [KeyRecord]
    /// The key whose SHA-256 is `hash`, revoked or not.
    func key(hash: String) async throws -> KeyRecord?

    /// Queues a job unless its key already has `maxActive` queued or running jobs.
    func insert(_ job: NewJob, maxActive: Int) async throws -> JobRecord
    func job(id: String) async throws -> JobRecord?
    /// 1 for the next job to run on its model, nil when the job is not queued.
    func queuePosition(id: String) async throws -> Int?

    /// Takes up to `limit` queued jobs of `model` in submission order, skipping keys that
    /// already have `perKeyRunning` jobs running, and marks them running under `worker`
    /// with a lease until `leaseUntil`. Jobs whose lease has passed are queued again first,
    /// or failed once they were taken `maxAttempts` times (`JobFailure.crash`).
    func claim(model: String, worker: String, limit: Int, perKeyRunning: Int, leaseUntil: Date, maxAttempts: Int) async throws -> [JobRecord]
    /// Extends the lease of `worker`'s running jobs.
    func renewLeases(worker: String, until: Date) async throws
    /// On the start of the only server of a store: every running job is queued again, or
    /// failed once it was taken `maxAttempts` times (the server died running it each time).
    func requeueRunning(maxAttempts: Int) async throws -> Int

    /// A running job back in the queue, as it was before it was claimed (its attempts
    /// stay counted): its worker process died running it.
    func requeue(id: String) async throws

    func setProgress(id: String, _ text: String) async throws
    /// Stores the results and marks the job completed, in one transaction.
    func complete(id: String, results: StoredResults, batchSize: Int) async throws
    func fail(id: String, message: String, kind: JobFailure, batchSize: Int?) async throws
    /// Queued: cancelled at once. Running: the cancel is requested and the worker stops it.
    /// Returns the job after the change; nil when `keyID` owns no such job.
    func cancel(id: String, keyID: Int64) async throws -> JobRecord?
    /// The running job stopped on a cancel request.
    func markCancelled(id: String) async throws

    func results(id: String) async throws -> StoredResults?
    /// Drops the results of jobs that finished before `before`; returns how many.
    func purgeResults(finishedBefore before: Date) async throws -> Int
    /// Jobs per state, for metrics.
    func countsByState() async throws -> [JobState: Int]
    /// Active jobs per key (queued or running), for the quota.
    func activeJobs(keyID: Int64) async throws -> Int
    /// Bytes of the results a key's jobs hold in the store (files and sidecars), for the
    /// per-key storage bound.
    func storedBytes(keyID: Int64) async throws -> Int
}

/// Opens the store a `--store` value names: a postgres:// or postgresql:// URL, else a SQLite file path.
public enum JobStores {
    public static func open(_ location: String) async throws -> any JobStore {
        if location.hasPrefix("postgres://") || location.hasPrefix("postgresql://") {
            let store = try PostgresJobStore(url: location)
            try await store.migrate()
            return store
        }
        let path = location.hasPrefix("sqlite:") ? String(location.dropFirst("sqlite:".count)) : location
        let store = try SQLiteJobStore(path: path)
        try await store.migrate()
        return store
    }
}

/// Params as stored: a JSON object of strings.
enum ParamsCoding {
    static func encode(_ params: [String: String]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: params, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func decode(_ text: String) -> [String: String] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: String] ?? [:]
    }
}

/// What kind of failure a failed job met, as its `error_kind` says: `plan` (the stored plan
/// no longer verifies), `param`, `input` (a value of the run out of range), `limit` (and
/// which: `limit.deadline`, `limit.register bytes`, ...), `internal`, `storage` (the
/// results could not be stored) or `crash` (the server died running it, every attempt).
public struct JobFailure: Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ text: String) { description = text }

    public static let plan = JobFailure("plan")
    /// The server process died while running the job, as many times as it may try.
    public static let crash = JobFailure("crash")
    public static let param = JobFailure("param")
    public static let storage = JobFailure("storage")
    /// The results file and its sidecar would pass `--max-saved` (as the VM's saved-bytes limit).
    public static let savedBytes = JobFailure("limit.saved bytes")
    /// The key's stored results would pass `--max-stored-per-key`.
    public static let storedBytes = JobFailure("limit.stored bytes")
}

/// Which queued jobs a worker takes, defined once for every store: in submission order,
/// at most `limit`, skipping a key's jobs while it has `perKeyRunning` running (counting
/// those taken now), so one key's long queue cannot hold the worker. A job taken before
/// (its server died running it) is taken alone, so that if it is what kills the server,
/// no other job is running, and counts an attempt, when it does.
enum ClaimPolicy {
    static func choose(_ queued: [JobRecord], running: [Int64: Int], limit: Int, perKeyRunning: Int) -> [JobRecord] {
        var running = running
        var chosen: [JobRecord] = []
        for job in queued.sorted(by: { $0.seq < $1.seq }) where chosen.count < limit {
            guard running[job.keyID, default: 0] < perKeyRunning else { continue }
            if job.attempts > 0 {
                if chosen.isEmpty { return [job] }
                continue
            }
            running[job.keyID, default: 0] += 1
            chosen.append(job)
        }
        return chosen
    }
}

extension JobFailure {
    /// The message of a job failed for its attempts, in SQL (the count is the row's).
    static let crashMessageSQL = "'the server stopped while running this job ' || attempts || ' times; it is not run again'"
}
