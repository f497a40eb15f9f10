import NSIClient
import Foundation
import GRDB

/// The embedded store: one SQLite file through GRDB, in WAL mode. SQLite serializes
/// writers, so a claim (a write transaction) hands each job to one worker.
public final class SQLiteJobStore: JobStore {
    let db: DatabasePool

    public init(path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        var config = Configuration()
        config.busyMode = .timeout(10)
        // The store holds every tenant's plans and results: only its owner reads it.
        let created = !FileManager.default.fileExists(atPath: path)
        let mask = umask(0o077)
        defer { umask(mask) }
        db = try DatabasePool(path: path, configuration: config)
        if created { chmod(path, 0o600) }
    }

    public func migrate() async throws {
        try await db.write { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS api_keys (
                    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, hash TEXT NOT NULL UNIQUE,
                    created_at REAL NOT NULL, revoked_at REAL);
                CREATE TABLE IF NOT EXISTS jobs (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, key_id INTEGER NOT NULL,
                    model TEXT NOT NULL, name TEXT NOT NULL, plan BLOB NOT NULL, params TEXT NOT NULL,
                    state TEXT NOT NULL, error TEXT, progress TEXT, cancel_requested INTEGER NOT NULL DEFAULT 0,
                    created_at REAL NOT NULL, started_at REAL, finished_at REAL, batch_size INTEGER,
                    worker TEXT, lease_until REAL, attempts INTEGER NOT NULL DEFAULT 0,
                    has_results INTEGER NOT NULL DEFAULT 0, results_expired INTEGER NOT NULL DEFAULT 0);
                CREATE INDEX IF NOT EXISTS jobs_queue ON jobs(model, state, seq);
                CREATE INDEX IF NOT EXISTS jobs_key ON jobs(key_id, state);
                CREATE TABLE IF NOT EXISTS results (
                    job_id TEXT PRIMARY KEY, safetensors BLOB NOT NULL, sidecar TEXT NOT NULL);
                """)
            // Stores made before failures had kinds gain the column.
            if try !db.columns(in: "jobs").contains(where: { $0.name == "error_kind" }) {
                try db.execute(sql: "ALTER TABLE jobs ADD COLUMN error_kind TEXT")
            }
        }
    }

    // MARK: keys

    public func createKey(name: String, hash: String) async throws -> KeyRecord {
        try await db.write { db in
            if try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM api_keys WHERE name = ?", arguments: [name])! > 0 {
                throw JobStoreError.duplicateKeyName(name)
            }
            let now = Date().timeIntervalSince1970
            try db.execute(sql: "INSERT INTO api_keys (name, hash, created_at) VALUES (?, ?, ?)", arguments: [name, hash, now])
            return KeyRecord(id: db.lastInsertedRowID, name: name, createdAt: Date(timeIntervalSince1970: now), revokedAt: nil)
        }
    }

    public func revokeKey(name: String) async throws -> Bool {
        try await db.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT revoked_at FROM api_keys WHERE name = ?", arguments: [name]) else {
                throw JobStoreError.noSuchKey(name)
            }
            if (row["revoked_at"] as Double?) != nil { return false }
            let now = Date().timeIntervalSince1970
            try db.execute(sql: "UPDATE api_keys SET revoked_at = ? WHERE name = ?", arguments: [now, name])
            // Its queued jobs are cancelled and its running ones asked to stop.
            let id = try Int64.fetchOne(db, sql: "SELECT id FROM api_keys WHERE name = ?", arguments: [name])
            try db.execute(sql: "UPDATE jobs SET state = 'cancelled', cancel_requested = 1, finished_at = ? WHERE key_id = ? AND state = 'queued'", arguments: [now, id])
            try db.execute(sql: "UPDATE jobs SET cancel_requested = 1 WHERE key_id = ? AND state = 'running'", arguments: [id])
            return true
        }
    }

    public func listKeys() async throws -> [KeyRecord] {
        try await db.read { db in
            try Row.fetchAll(db, sql: "SELECT id, name, created_at, revoked_at FROM api_keys ORDER BY id").map(Self.key)
        }
    }

    public func key(hash: String) async throws -> KeyRecord? {
        try await db.read { db in
            try Row.fetchOne(db, sql: "SELECT id, name, created_at, revoked_at FROM api_keys WHERE hash = ?", arguments: [hash]).map(Self.key)
        }
    }

    static func key(_ row: Row) -> KeyRecord {
        KeyRecord(id: row["id"], name: row["name"], createdAt: Date(timeIntervalSince1970: row["created_at"]),
                  revokedAt: (row["revoked_at"] as Double?).map { Date(timeIntervalSince1970: $0) })
    }

    // MARK: jobs

    static let jobColumns = "seq, id, key_id, model, name, plan, params, state, error, error_kind, progress, cancel_requested, created_at, started_at, finished_at, batch_size, has_results, results_expired, worker, attempts"

    static func job(_ row: Row) -> JobRecord {
        func date(_ c: String) -> Date? { (row[c] as Double?).map { Date(timeIntervalSince1970: $0) } }
        return JobRecord(id: row["id"], seq: row["seq"], keyID: row["key_id"], model: row["model"], name: row["name"],
                         plan: row["plan"], params: ParamsCoding.decode(row["params"]),
                         state: JobState(rawValue: row["state"]) ?? .failed, error: row["error"], errorKind: row["error_kind"], progress: row["progress"],
                         cancelRequested: row["cancel_requested"], createdAt: date("created_at")!, startedAt: date("started_at"),
                         finishedAt: date("finished_at"), batchSize: row["batch_size"], hasResults: row["has_results"],
                         resultsExpired: row["results_expired"], worker: row["worker"], attempts: row["attempts"])
    }

    public func insert(_ job: NewJob, maxActive: Int) async throws -> JobRecord {
        try await db.write { db in
            let active = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM jobs WHERE key_id = ? AND state IN ('queued', 'running')", arguments: [job.keyID])!
            guard active < maxActive else { throw JobStoreError.quotaExceeded(active: active, limit: maxActive) }
            try db.execute(sql: "INSERT INTO jobs (id, key_id, model, name, plan, params, state, created_at) VALUES (?, ?, ?, ?, ?, ?, 'queued', ?)",
                           arguments: [job.id, job.keyID, job.model, job.name, job.plan, ParamsCoding.encode(job.params), Date().timeIntervalSince1970])
            return Self.job(try Row.fetchOne(db, sql: "SELECT \(Self.jobColumns) FROM jobs WHERE id = ?", arguments: [job.id])!)
        }
    }

    public func job(id: String) async throws -> JobRecord? {
        try await db.read { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.jobColumns) FROM jobs WHERE id = ?", arguments: [id]).map(Self.job)
        }
    }

    public func queuePosition(id: String) async throws -> Int? {
        try await db.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT seq, model, state FROM jobs WHERE id = ?", arguments: [id]),
                  (row["state"] as String) == JobState.queued.rawValue else { return nil }
            let ahead = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM jobs WHERE model = ? AND state = 'queued' AND seq < ?",
                                         arguments: [row["model"] as String, row["seq"] as Int64])!
            return ahead + 1
        }
    }

    public func claim(model: String, worker: String, limit: Int, perKeyRunning: Int, leaseUntil: Date, maxAttempts: Int) async throws -> [JobRecord] {
        try await db.write { db in
            let now = Date().timeIntervalSince1970
            try Self.requeueExpired(db, now: now, maxAttempts: maxAttempts)
            var running: [Int64: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT key_id, COUNT(*) AS n FROM jobs WHERE state = 'running' GROUP BY key_id") {
                running[row["key_id"]] = row["n"]
            }
            let candidates = try Row.fetchAll(db, sql: "SELECT \(Self.jobColumns) FROM jobs WHERE model = ? AND state = 'queued' ORDER BY seq LIMIT 1000",
                                              arguments: [model]).map(Self.job)
            var claimed: [JobRecord] = []
            for var job in ClaimPolicy.choose(candidates, running: running, limit: limit, perKeyRunning: perKeyRunning) {
                try db.execute(sql: "UPDATE jobs SET state = 'running', worker = ?, lease_until = ?, started_at = ?, attempts = attempts + 1, progress = NULL WHERE id = ?",
                               arguments: [worker, leaseUntil.timeIntervalSince1970, now, job.id])
                job.state = .running
                job.startedAt = Date(timeIntervalSince1970: now)
                job.attempts += 1
                claimed.append(job)
            }
            return claimed
        }
    }

    /// Running jobs whose server stopped renewing their lease: queued again (or cancelled,
    /// when a cancel was asked for, or failed after `maxAttempts`).
    static func requeueExpired(_ db: Database, now: Double, maxAttempts: Int) throws {
        try db.execute(sql: "UPDATE jobs SET state = 'cancelled', finished_at = ?, worker = NULL WHERE state = 'running' AND lease_until < ? AND cancel_requested = 1",
                       arguments: [now, now])
        try db.execute(sql: """
            UPDATE jobs SET state = 'failed', error = \(JobFailure.crashMessageSQL), error_kind = ?, finished_at = ?, worker = NULL,
            lease_until = NULL, progress = NULL WHERE state = 'running' AND lease_until < ? AND attempts >= ?
            """, arguments: [JobFailure.crash.description, min(now, Date().timeIntervalSince1970), now, maxAttempts])
        try db.execute(sql: "UPDATE jobs SET state = 'queued', worker = NULL, lease_until = NULL, started_at = NULL, progress = NULL WHERE state = 'running' AND lease_until < ?",
                       arguments: [now])
    }

    public func renewLeases(worker: String, until: Date) async throws {
        try await db.write { db in
            try db.execute(sql: "UPDATE jobs SET lease_until = ? WHERE worker = ? AND state = 'running'", arguments: [until.timeIntervalSince1970, worker])
        }
    }

    public func requeueRunning(maxAttempts: Int) async throws -> Int {
        try await db.write { db in
            let before = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM jobs WHERE state = 'running'") ?? 0
            try Self.requeueExpired(db, now: .infinity, maxAttempts: maxAttempts)
            return before
        }
    }

    public func requeue(id: String) async throws {
        try await db.write { db in
            try db.execute(sql: "UPDATE jobs SET state = 'queued', worker = NULL, lease_until = NULL, started_at = NULL, progress = NULL WHERE id = ? AND state = 'running'",
                           arguments: [id])
        }
    }

    public func setProgress(id: String, _ text: String) async throws {
        try await db.write { db in
            try db.execute(sql: "UPDATE jobs SET progress = ? WHERE id = ? AND state = 'running'", arguments: [text, id])
        }
    }

    public func complete(id: String, results: StoredResults, batchSize: Int) async throws {
        try await db.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO results (job_id, safetensors, sidecar) VALUES (?, ?, ?)",
                           arguments: [id, results.safetensors, results.sidecar])
            try db.execute(sql: "UPDATE jobs SET state = 'completed', finished_at = ?, batch_size = ?, has_results = 1, lease_until = NULL WHERE id = ?",
                           arguments: [Date().timeIntervalSince1970, batchSize, id])
        }
    }

    public func fail(id: String, message: String, kind: JobFailure, batchSize: Int?) async throws {
        try await db.write { db in
            try db.execute(sql: "UPDATE jobs SET state = 'failed', error = ?, error_kind = ?, finished_at = ?, batch_size = ?, lease_until = NULL WHERE id = ?",
                           arguments: [message, kind.description, Date().timeIntervalSince1970, batchSize, id])
        }
    }

    public func cancel(id: String, keyID: Int64) async throws -> JobRecord? {
        try await db.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT state FROM jobs WHERE id = ? AND key_id = ?", arguments: [id, keyID]) else { return nil }
            switch JobState(rawValue: row["state"]) {
            case .queued:
                try db.execute(sql: "UPDATE jobs SET state = 'cancelled', cancel_requested = 1, finished_at = ? WHERE id = ?",
                               arguments: [Date().timeIntervalSince1970, id])
            case .running:
                try db.execute(sql: "UPDATE jobs SET cancel_requested = 1 WHERE id = ?", arguments: [id])
            default:
                break
            }
            return try Row.fetchOne(db, sql: "SELECT \(Self.jobColumns) FROM jobs WHERE id = ?", arguments: [id]).map(Self.job)
        }
    }

    public func markCancelled(id: String) async throws {
        try await db.write { db in
            try db.execute(sql: "UPDATE jobs SET state = 'cancelled', finished_at = ?, worker = NULL, lease_until = NULL WHERE id = ?",
                           arguments: [Date().timeIntervalSince1970, id])
        }
    }

    public func results(id: String) async throws -> StoredResults? {
        try await db.read { db in
            try Row.fetchOne(db, sql: "SELECT safetensors, sidecar FROM results WHERE job_id = ?", arguments: [id]).map {
                StoredResults(safetensors: $0["safetensors"], sidecar: $0["sidecar"])
            }
        }
    }

    public func purgeResults(finishedBefore before: Date) async throws -> Int {
        try await db.write { db in
            let t = before.timeIntervalSince1970
            try db.execute(sql: "DELETE FROM results WHERE job_id IN (SELECT id FROM jobs WHERE has_results = 1 AND finished_at < ?)", arguments: [t])
            try db.execute(sql: "UPDATE jobs SET has_results = 0, results_expired = 1 WHERE has_results = 1 AND finished_at < ?", arguments: [t])
            return db.changesCount
        }
    }

    public func countsByState() async throws -> [JobState: Int] {
        try await db.read { db in
            var out: [JobState: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM jobs GROUP BY state") {
                if let s = JobState(rawValue: row["state"]) { out[s] = row["n"] }
            }
            return out
        }
    }

    public func activeJobs(keyID: Int64) async throws -> Int {
        try await db.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM jobs WHERE key_id = ? AND state IN ('queued', 'running')", arguments: [keyID])!
        }
    }

    public func storedBytes(keyID: Int64) async throws -> Int {
        try await db.read { db in
            try Int.fetchOne(db, sql: """
                SELECT COALESCE(SUM(LENGTH(r.safetensors) + LENGTH(CAST(r.sidecar AS BLOB))), 0) FROM results r JOIN jobs j ON j.id = r.job_id WHERE j.key_id = ?
                """, arguments: [keyID])!
        }
    }
}
