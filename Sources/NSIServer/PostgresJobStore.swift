import NSIClient
import Foundation
import Logging
import PostgresNIO

/// The shared store: one PostgreSQL database that several server processes, on several
/// machines, use as one queue. A claim takes rows with `SELECT ... FOR UPDATE SKIP LOCKED`
/// inside a transaction, so two workers never take the same job and never wait on each other.
public final class PostgresJobStore: JobStore {
    let client: PostgresClient
    let runner: Task<Void, Never>
    let logger = Logger(label: "nsi.postgres")

    /// `postgres://user[:password]@host[:port]/database`
    public init(url: String) throws {
        guard let c = URLComponents(string: url), let host = c.host, !host.isEmpty else {
            throw ServerSetupError("cannot read the PostgreSQL URL (expected postgres://user[:password]@host[:port]/database)")
        }
        let database = c.path.hasPrefix("/") ? String(c.path.dropFirst()) : c.path
        let config = PostgresClient.Configuration(host: host, port: c.port ?? 5432, username: c.user ?? "postgres",
                                                  password: c.password, database: database.isEmpty ? nil : database, tls: .disable)
        let client = PostgresClient(configuration: config, backgroundLogger: Logger(label: "nsi.postgres.pool"))
        self.client = client
        runner = Task { await client.run() }
    }

    deinit { runner.cancel() }

    func rows(_ query: PostgresQuery, on connection: PostgresConnection? = nil) async throws -> [PostgresRandomAccessRow] {
        var out: [PostgresRandomAccessRow] = []
        let sequence = if let connection { try await connection.query(query, logger: logger) } else { try await client.query(query, logger: logger) }
        for try await row in sequence { out.append(row.makeRandomAccess()) }
        return out
    }

    func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            _ = try await self.rows("BEGIN", on: connection)
            do {
                let value = try await body(connection)
                _ = try await self.rows("COMMIT", on: connection)
                return value
            } catch {
                _ = try? await self.rows("ROLLBACK", on: connection)
                throw error
            }
        }
    }

    public func migrate() async throws {
        // Two servers starting at once: the advisory lock makes one create the tables.
        try await transaction { c in
            _ = try await self.rows("SELECT pg_advisory_xact_lock(7007001)", on: c)
            _ = try await self.rows("""
                CREATE TABLE IF NOT EXISTS api_keys (
                    id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE, hash TEXT NOT NULL UNIQUE,
                    created_at DOUBLE PRECISION NOT NULL, revoked_at DOUBLE PRECISION)
                """, on: c)
            _ = try await self.rows("""
                CREATE TABLE IF NOT EXISTS jobs (
                    seq BIGSERIAL PRIMARY KEY, id TEXT NOT NULL UNIQUE, key_id BIGINT NOT NULL,
                    model TEXT NOT NULL, name TEXT NOT NULL, plan BYTEA NOT NULL, params TEXT NOT NULL,
                    state TEXT NOT NULL, error TEXT, progress TEXT, cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
                    created_at DOUBLE PRECISION NOT NULL, started_at DOUBLE PRECISION, finished_at DOUBLE PRECISION,
                    batch_size INTEGER, worker TEXT, lease_until DOUBLE PRECISION, attempts INTEGER NOT NULL DEFAULT 0,
                    has_results BOOLEAN NOT NULL DEFAULT FALSE, results_expired BOOLEAN NOT NULL DEFAULT FALSE)
                """, on: c)
            _ = try await self.rows("ALTER TABLE jobs ADD COLUMN IF NOT EXISTS error_kind TEXT", on: c)
            _ = try await self.rows("CREATE INDEX IF NOT EXISTS jobs_queue ON jobs(model, state, seq)", on: c)
            _ = try await self.rows("CREATE INDEX IF NOT EXISTS jobs_key ON jobs(key_id, state)", on: c)
            _ = try await self.rows("CREATE TABLE IF NOT EXISTS results (job_id TEXT PRIMARY KEY, safetensors BYTEA NOT NULL, sidecar TEXT NOT NULL)", on: c)
        }
    }

    static var now: Double { Date().timeIntervalSince1970 }

    // MARK: keys

    static func key(_ r: PostgresRandomAccessRow) throws -> KeyRecord {
        KeyRecord(id: try r["id"].decode(Int64.self), name: try r["name"].decode(String.self),
                  createdAt: Date(timeIntervalSince1970: try r["created_at"].decode(Double.self)),
                  revokedAt: try r["revoked_at"].decode(Double?.self).map { Date(timeIntervalSince1970: $0) })
    }

    public func createKey(name: String, hash: String) async throws -> KeyRecord {
        try await transaction { c in
            guard try await self.rows("SELECT id FROM api_keys WHERE name = \(name)", on: c).isEmpty else { throw JobStoreError.duplicateKeyName(name) }
            let r = try await self.rows("INSERT INTO api_keys (name, hash, created_at) VALUES (\(name), \(hash), \(Self.now)) RETURNING id, name, created_at, revoked_at", on: c)
            return try Self.key(r[0])
        }
    }

    public func revokeKey(name: String) async throws -> Bool {
        try await transaction { c in
            let r = try await self.rows("SELECT revoked_at FROM api_keys WHERE name = \(name) FOR UPDATE", on: c)
            guard let row = r.first else { throw JobStoreError.noSuchKey(name) }
            if try row["revoked_at"].decode(Double?.self) != nil { return false }
            _ = try await self.rows("UPDATE api_keys SET revoked_at = \(Self.now) WHERE name = \(name)", on: c)
            // Its queued jobs are cancelled and its running ones asked to stop.
            _ = try await self.rows("""
                UPDATE jobs SET state = 'cancelled', cancel_requested = TRUE, finished_at = \(Self.now)
                WHERE state = 'queued' AND key_id = (SELECT id FROM api_keys WHERE name = \(name))
                """, on: c)
            _ = try await self.rows("UPDATE jobs SET cancel_requested = TRUE WHERE state = 'running' AND key_id = (SELECT id FROM api_keys WHERE name = \(name))", on: c)
            return true
        }
    }

    public func listKeys() async throws -> [KeyRecord] {
        try await rows("SELECT id, name, created_at, revoked_at FROM api_keys ORDER BY id").map(Self.key)
    }

    public func key(hash: String) async throws -> KeyRecord? {
        try await rows("SELECT id, name, created_at, revoked_at FROM api_keys WHERE hash = \(hash)").first.map(Self.key)
    }

    // MARK: jobs

    static let jobColumns = "seq, id, key_id, model, name, plan, params, state, error, error_kind, progress, cancel_requested, created_at, started_at, finished_at, batch_size, has_results, results_expired, worker, attempts"

    static func job(_ r: PostgresRandomAccessRow) throws -> JobRecord {
        func date(_ c: String) throws -> Date? { try r[c].decode(Double?.self).map { Date(timeIntervalSince1970: $0) } }
        return JobRecord(id: try r["id"].decode(String.self), seq: try r["seq"].decode(Int64.self), keyID: try r["key_id"].decode(Int64.self),
                         model: try r["model"].decode(String.self), name: try r["name"].decode(String.self),
                         plan: try r["plan"].decode(Data.self), params: ParamsCoding.decode(try r["params"].decode(String.self)),
                         state: JobState(rawValue: try r["state"].decode(String.self)) ?? .failed,
                         error: try r["error"].decode(String?.self), errorKind: try r["error_kind"].decode(String?.self), progress: try r["progress"].decode(String?.self),
                         cancelRequested: try r["cancel_requested"].decode(Bool.self), createdAt: try date("created_at")!,
                         startedAt: try date("started_at"), finishedAt: try date("finished_at"),
                         batchSize: try r["batch_size"].decode(Int32?.self).map(Int.init),
                         hasResults: try r["has_results"].decode(Bool.self), resultsExpired: try r["results_expired"].decode(Bool.self),
                         worker: try r["worker"].decode(String?.self), attempts: Int(try r["attempts"].decode(Int32.self)))
    }

    func select(_ id: String, on c: PostgresConnection? = nil) async throws -> JobRecord? {
        var q = PostgresQuery(unsafeSQL: "SELECT \(Self.jobColumns) FROM jobs WHERE id = $1")
        q.binds.append(id)
        return try await rows(q, on: c).first.map(Self.job)
    }

    public func insert(_ job: NewJob, maxActive: Int) async throws -> JobRecord {
        try await transaction { c in
            // Serializes one key's submissions, so the quota holds across servers.
            _ = try await self.rows("SELECT pg_advisory_xact_lock(7007002, \(Int32(truncatingIfNeeded: job.keyID)))", on: c)
            let active = try await self.rows("SELECT COUNT(*) AS n FROM jobs WHERE key_id = \(job.keyID) AND state IN ('queued', 'running')", on: c)[0]["n"].decode(Int.self)
            guard active < maxActive else { throw JobStoreError.quotaExceeded(active: active, limit: maxActive) }
            _ = try await self.rows("""
                INSERT INTO jobs (id, key_id, model, name, plan, params, state, created_at)
                VALUES (\(job.id), \(job.keyID), \(job.model), \(job.name), \(job.plan), \(ParamsCoding.encode(job.params)), 'queued', \(Self.now))
                """, on: c)
            return try await self.select(job.id, on: c)!
        }
    }

    public func job(id: String) async throws -> JobRecord? { try await select(id) }

    public func queuePosition(id: String) async throws -> Int? {
        let r = try await rows("""
            SELECT (SELECT COUNT(*) FROM jobs o WHERE o.model = j.model AND o.state = 'queued' AND o.seq < j.seq) AS ahead
            FROM jobs j WHERE j.id = \(id) AND j.state = 'queued'
            """)
        return try r.first.map { try $0["ahead"].decode(Int.self) + 1 }
    }

    public func claim(model: String, worker: String, limit: Int, perKeyRunning: Int, leaseUntil: Date, maxAttempts: Int) async throws -> [JobRecord] {
        try await transaction { c in
            let now = Self.now
            try await self.requeueExpired(c, now: now, maxAttempts: maxAttempts)
            var running: [Int64: Int] = [:]
            for r in try await self.rows("SELECT key_id, COUNT(*) AS n FROM jobs WHERE state = 'running' GROUP BY key_id", on: c) {
                running[try r["key_id"].decode(Int64.self)] = try r["n"].decode(Int.self)
            }
            var q = PostgresQuery(unsafeSQL: "SELECT \(Self.jobColumns) FROM jobs WHERE model = $1 AND state = 'queued' ORDER BY seq LIMIT 1000 FOR UPDATE SKIP LOCKED")
            q.binds.append(model)
            var claimed: [JobRecord] = []
            let candidates = try await self.rows(q, on: c).map(Self.job)
            for var job in ClaimPolicy.choose(candidates, running: running, limit: limit, perKeyRunning: perKeyRunning) {
                _ = try await self.rows("""
                    UPDATE jobs SET state = 'running', worker = \(worker), lease_until = \(leaseUntil.timeIntervalSince1970),
                    started_at = \(now), attempts = attempts + 1, progress = NULL WHERE id = \(job.id)
                    """, on: c)
                job.state = .running
                job.startedAt = Date(timeIntervalSince1970: now)
                job.attempts += 1
                claimed.append(job)
            }
            return claimed
        }
    }

    func requeueExpired(_ c: PostgresConnection, now: Double, maxAttempts: Int) async throws {
        _ = try await rows("UPDATE jobs SET state = 'cancelled', finished_at = \(now), worker = NULL WHERE state = 'running' AND lease_until < \(now) AND cancel_requested", on: c)
        var failed = PostgresQuery(unsafeSQL: """
            UPDATE jobs SET state = 'failed', error = \(JobFailure.crashMessageSQL), error_kind = $1, finished_at = $2, worker = NULL,
            lease_until = NULL, progress = NULL WHERE state = 'running' AND lease_until < $2 AND attempts >= $3
            """)
        failed.binds.append(JobFailure.crash.description)
        failed.binds.append(now)
        failed.binds.append(Int32(maxAttempts))
        _ = try await rows(failed, on: c)
        _ = try await rows("UPDATE jobs SET state = 'queued', worker = NULL, lease_until = NULL, started_at = NULL, progress = NULL WHERE state = 'running' AND lease_until < \(now)", on: c)
    }

    public func renewLeases(worker: String, until: Date) async throws {
        _ = try await rows("UPDATE jobs SET lease_until = \(until.timeIntervalSince1970) WHERE worker = \(worker) AND state = 'running'")
    }

    public func requeueRunning(maxAttempts: Int) async throws -> Int {
        let failed = try await rows("""
            UPDATE jobs SET state = 'failed', error = \(unescaped: JobFailure.crashMessageSQL), error_kind = \(JobFailure.crash.description), finished_at = \(Self.now),
            worker = NULL, lease_until = NULL, progress = NULL WHERE state = 'running' AND attempts >= \(Int32(maxAttempts)) RETURNING id
            """)
        let r = try await rows("UPDATE jobs SET state = 'queued', worker = NULL, lease_until = NULL, started_at = NULL, progress = NULL WHERE state = 'running' RETURNING id")
        return r.count + failed.count
    }

    public func requeue(id: String) async throws {
        _ = try await rows("UPDATE jobs SET state = 'queued', worker = NULL, lease_until = NULL, started_at = NULL, progress = NULL WHERE id = \(id) AND state = 'running'")
    }

    public func setProgress(id: String, _ text: String) async throws {
        _ = try await rows("UPDATE jobs SET progress = \(text) WHERE id = \(id) AND state = 'running'")
    }

    public func complete(id: String, results: StoredResults, batchSize: Int) async throws {
        try await transaction { c in
            _ = try await self.rows("""
                INSERT INTO results (job_id, safetensors, sidecar) VALUES (\(id), \(results.safetensors), \(results.sidecar))
                ON CONFLICT (job_id) DO UPDATE SET safetensors = EXCLUDED.safetensors, sidecar = EXCLUDED.sidecar
                """, on: c)
            _ = try await self.rows("""
                UPDATE jobs SET state = 'completed', finished_at = \(Self.now), batch_size = \(Int32(batchSize)), has_results = TRUE,
                lease_until = NULL WHERE id = \(id)
                """, on: c)
        }
    }

    public func fail(id: String, message: String, kind: JobFailure, batchSize: Int?) async throws {
        _ = try await rows("""
            UPDATE jobs SET state = 'failed', error = \(message), error_kind = \(kind.description), finished_at = \(Self.now), batch_size = \(batchSize.map { Int32($0) }),
            lease_until = NULL WHERE id = \(id)
            """)
    }

    public func cancel(id: String, keyID: Int64) async throws -> JobRecord? {
        try await transaction { c in
            let r = try await self.rows("SELECT state FROM jobs WHERE id = \(id) AND key_id = \(keyID) FOR UPDATE", on: c)
            guard let row = r.first else { return nil }
            switch JobState(rawValue: try row["state"].decode(String.self)) {
            case .queued:
                _ = try await self.rows("UPDATE jobs SET state = 'cancelled', cancel_requested = TRUE, finished_at = \(Self.now) WHERE id = \(id)", on: c)
            case .running:
                _ = try await self.rows("UPDATE jobs SET cancel_requested = TRUE WHERE id = \(id)", on: c)
            default:
                break
            }
            return try await self.select(id, on: c)
        }
    }

    public func markCancelled(id: String) async throws {
        _ = try await rows("UPDATE jobs SET state = 'cancelled', finished_at = \(Self.now), worker = NULL, lease_until = NULL WHERE id = \(id)")
    }

    public func results(id: String) async throws -> StoredResults? {
        try await rows("SELECT safetensors, sidecar FROM results WHERE job_id = \(id)").first.map {
            StoredResults(safetensors: try $0["safetensors"].decode(Data.self), sidecar: try $0["sidecar"].decode(String.self))
        }
    }

    public func purgeResults(finishedBefore before: Date) async throws -> Int {
        try await transaction { c in
            let t = before.timeIntervalSince1970
            _ = try await self.rows("DELETE FROM results WHERE job_id IN (SELECT id FROM jobs WHERE has_results AND finished_at < \(t))", on: c)
            return try await self.rows("UPDATE jobs SET has_results = FALSE, results_expired = TRUE WHERE has_results AND finished_at < \(t) RETURNING id", on: c).count
        }
    }

    public func countsByState() async throws -> [JobState: Int] {
        var out: [JobState: Int] = [:]
        for r in try await rows("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state") {
            if let s = JobState(rawValue: try r["state"].decode(String.self)) { out[s] = try r["n"].decode(Int.self) }
        }
        return out
    }

    public func activeJobs(keyID: Int64) async throws -> Int {
        try await rows("SELECT COUNT(*) AS n FROM jobs WHERE key_id = \(keyID) AND state IN ('queued', 'running')")[0]["n"].decode(Int.self)
    }

    public func storedBytes(keyID: Int64) async throws -> Int {
        try await rows("""
            SELECT COALESCE(SUM(octet_length(r.safetensors) + octet_length(r.sidecar)), 0)::BIGINT AS n FROM results r JOIN jobs j ON j.id = r.job_id WHERE j.key_id = \(keyID)
            """)[0]["n"].decode(Int.self)
    }
}

/// A server that cannot start: a bad flag, a missing model, an unreachable store.
public struct ServerSetupError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ message: String) { description = message }
}
