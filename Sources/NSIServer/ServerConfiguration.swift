import Foundation
import NSIVM

/// Everything `nsi serve` can be told: where to listen, what to host, where the queue is,
/// and the limits every key and every job is held to.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    /// 0 picks a free port; the server says which once it listens.
    public var port = 8080
    /// Hosted models: name and folder.
    public var models: [(name: String, directory: String)] = []
    /// A SQLite file path, or a postgres:// URL.
    public var store = "nsi-server.sqlite"

    /// Bytes of one request body (413 past it).
    public var maxBodyBytes = 4 << 20
    /// Requests a second per key, on average (429 with Retry-After past it); 0 turns it off.
    public var requestsPerSecond = 20.0
    /// Requests a key may make at once before the rate applies.
    public var burst = 40.0
    /// Queued or running jobs per key (429 past it).
    public var maxActivePerKey = 64
    /// Running jobs per key at once; others wait their turn, FIFO.
    public var maxRunningPerKey = 8
    /// Jobs that may share one forward pass; 1 runs every job alone.
    public var maxBatch = 16
    /// What one job may use: deadline, generated tokens, saved bytes, instructions.
    public var jobLimits = VMLimits(maxSavedBytes: 256 << 20, maxGeneratedTokens: 512, deadline: 300)

    /// Floating-point operations of a job's forward passes (`RunBounds.flops`, from the
    /// plan, its params and the tokenizer), checked at submission: past it, 422 before
    /// anything is queued. The default is more than 300 s at 300 GFLOP/s, so it refuses
    /// only what no CPU finishes within the default deadline; nil: no bound.
    public var maxFLOPs: Double? = 100e12
    /// How long a connection may go without a request's next part (its head, a body
    /// chunk, its end) or, between requests, without a new one, before it is closed: a
    /// client that opens connections and sends nothing, or a header a byte at a time,
    /// holds no connection for longer. A response being written (an event stream) is not
    /// idle.
    public var readTimeout: TimeInterval = 30
    /// Bytes of results one key may hold in the store at once: past it, submissions get 429
    /// `storage_quota_exceeded`, and a job whose results would pass it fails with
    /// `limit.stored bytes` (its results are not kept). Results leave after `keepResults`.
    public var maxStoredBytesPerKey = 2 << 30
    /// How long results are kept after a job finishes.
    public var keepResults: TimeInterval = 24 * 3600
    /// How often expired results are dropped.
    public var purgeInterval: TimeInterval = 60
    /// How long a worker holds a running job without renewing its lease; a job whose
    /// server died is queued again after this long.
    public var lease: TimeInterval = 30
    /// How long an idle worker waits before it looks for jobs again.
    public var pollInterval: TimeInterval = 0.05
    /// Queue every running job again at start: right for SQLite, whose file one server
    /// owns; wrong for a shared PostgreSQL queue, where leases recover dead servers' jobs.
    public var requeueRunningOnStart: Bool?
    /// How many times a job is taken before a server (or a worker process) that died
    /// running it each time gives up on it (`failed`, `error_kind` `crash`). After the first, it runs alone.
    public var maxAttempts = 3
    /// How batches run: in worker processes started with this command (the `nsi`
    /// executable and `serve-worker`), one per hosted model, so that a process that dies
    /// running a job (a crash, the out-of-memory killer) is the worker's and not the
    /// server's; nil runs them on a thread of the server's own process (`nsi serve
    /// --in-process`, and tests of everything else). A job whose worker died goes back to
    /// the queue and runs alone, up to `maxAttempts` times, then fails as `crash`.
    public var workerCommand: [String]?
    /// How long past the job deadline (times the jobs in the batch) a worker may run one
    /// batch before it is stopped: one instruction that does not stop in time cannot hold
    /// the model's worker.
    public var workerGrace: TimeInterval = 30
    /// Serve /v1/metrics without a key (for a scraper on a private network); off, it needs
    /// one like every route but health and the API description.
    public var publicMetrics = false
    /// Event streams (`/v1/jobs/{id}/events`) a key may hold open at once; more get 429.
    public var maxStreamsPerKey = 16
    /// This process, in the queue's `worker` column.
    public var workerID = ProcessInfo.processInfo.hostName + ":" + String(ProcessInfo.processInfo.processIdentifier) + ":" + UUID().uuidString.prefix(8)

    public init() {}

    var isPostgres: Bool { store.hasPrefix("postgres://") || store.hasPrefix("postgresql://") }
}
