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
}
