/// The states of a job. `queued` and `running` are active; the other three are final.
public enum JobState: String, Sendable, Codable, CaseIterable {
    case queued, running, completed, failed, cancelled

    public var isFinal: Bool { self == .completed || self == .failed || self == .cancelled }
}

/// A job as the API shows it (`GET /v1/jobs/{id}`), encoded by the server and decoded
/// by its clients: one type for both sides.
public struct JobStatus: Codable, Equatable, Sendable {
    public var id: String
    public var model: String
    public var name: String
    public var state: String
    public var position: Int?
    public var progress: String?
    public var error: String?
    public var errorKind: String?
    public var createdAt: String
    public var startedAt: String?
    public var finishedAt: String?
    public var batchSize: Int?
    public var results: String?
    public var resultsExpired: Bool?
    public var worker: String?
    public var attempts: Int?

    public var isFinal: Bool { JobState(rawValue: state)?.isFinal ?? false }

    public init(id: String, model: String, name: String, state: String, position: Int? = nil, progress: String? = nil,
                error: String? = nil, errorKind: String? = nil, createdAt: String, startedAt: String? = nil, finishedAt: String? = nil,
                batchSize: Int? = nil, results: String? = nil, resultsExpired: Bool? = nil, worker: String? = nil, attempts: Int? = nil) {
        self.id = id
        self.model = model
        self.name = name
        self.state = state
        self.position = position
        self.progress = progress
        self.error = error
        self.errorKind = errorKind
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.batchSize = batchSize
        self.results = results
        self.resultsExpired = resultsExpired
        self.worker = worker
        self.attempts = attempts
    }
}
