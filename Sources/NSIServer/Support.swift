import Crypto
import Foundation
import NSITensor
import Hummingbird

/// A value behind a lock, for state that event-loop handlers and VM threads share.
final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    init(_ value: Value) { self.value = value }
    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}

/// API keys: 32 random bytes shown once; the store keeps only their SHA-256.
public enum APIKeys {
    public static func generate() -> String {
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
        return "nsi_" + bytes.map { String(format: "%02x", $0) }.joined()
    }

    public static func hash(_ key: String) -> String {
        SHA256.hash(data: Data(key.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

/// Token buckets per key: `rate` requests a second on average, up to `burst` at once.
final class RateLimiter: Sendable {
    let rate: Double
    let burst: Double
    private let buckets = Locked<[Int64: (tokens: Double, at: Double)]>([:])

    init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = max(1, burst)
    }

    /// Nil when the request may go ahead, else the seconds until it may.
    func take(_ key: Int64, now: Double = Date().timeIntervalSince1970) -> Int? {
        guard rate > 0 else { return nil }
        return buckets.withLock { b in
            var bucket = b[key] ?? (burst, now)
            bucket.tokens = min(burst, bucket.tokens + (now - bucket.at) * rate)
            bucket.at = now
            defer { b[key] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            return max(1, Int(((1 - bucket.tokens) / rate).rounded(.up)))
        }
    }
}

/// An error the API answers with: a status, a stable code and a message, as JSON
/// `{"error": {"code": ..., "message": ...}}`.
struct APIError: HTTPResponseError {
    let status: HTTPResponse.Status
    let code: String
    let message: String
    var headers: HTTPFields = [:]

    init(_ status: HTTPResponse.Status, _ code: String, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var h = headers
        h[.contentType] = "application/json"
        let body = "{\"error\":{\"code\":\(JSONText.quote(code)),\"message\":\(JSONText.quote(message))}}\n"
        return Response(status: status, headers: h, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

enum JSONText {
    static func quote(_ s: String) -> String { JSONValue.quote(s) }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        e.keyEncodingStrategy = .convertToSnakeCase
        return e
    }()

    static func encode<T: Encodable>(_ value: T) -> String {
        (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? "{}"
    }
}

/// Counters for /v1/metrics, in Prometheus's text format.
final class Metrics: Sendable {
    struct Counts {
        var requests: [Int: Int] = [:]
        var rateLimited = 0
        var batches = 0
        var batchJobs = 0
        var batchSizes: [Int: Int] = [:]
        var runs: [String: Int] = [:]
        var runSeconds = 0.0
    }
    private let counts = Locked(Counts())

    func request(status: Int) { counts.withLock { $0.requests[status, default: 0] += 1 } }
    func rateLimited() { counts.withLock { $0.rateLimited += 1 } }
    func batch(size: Int, seconds: Double) {
        counts.withLock {
            $0.batches += 1
            $0.batchJobs += size
            $0.batchSizes[size, default: 0] += 1
            $0.runSeconds += seconds
        }
    }
    func run(outcome: String) { counts.withLock { $0.runs[outcome, default: 0] += 1 } }

    func render(jobs: [JobState: Int], models: [String]) -> String {
        let c = counts.withLock { $0 }
        var lines: [String] = []
        lines.append("# HELP nsi_jobs Jobs in the store by state.")
        lines.append("# TYPE nsi_jobs gauge")
        for s in JobState.allCases { lines.append("nsi_jobs{state=\"\(s.rawValue)\"} \(jobs[s] ?? 0)") }
        lines.append("# HELP nsi_queue_length Jobs waiting to run.")
        lines.append("# TYPE nsi_queue_length gauge")
        lines.append("nsi_queue_length \(jobs[.queued] ?? 0)")
        lines.append("# HELP nsi_runs_total Jobs this process ran, by outcome.")
        lines.append("# TYPE nsi_runs_total counter")
        for (k, v) in c.runs.sorted(by: { $0.key < $1.key }) { lines.append("nsi_runs_total{outcome=\"\(k)\"} \(v)") }
        lines.append("# HELP nsi_batches_total Batches (forward passes shared by jobs) this process ran.")
        lines.append("# TYPE nsi_batches_total counter")
        lines.append("nsi_batches_total \(c.batches)")
        lines.append("# HELP nsi_batch_size Jobs per batch.")
        lines.append("# TYPE nsi_batch_size histogram")
        var cumulative = 0
        for bound in [1, 2, 4, 8, 16, 32, 64] {
            cumulative = c.batchSizes.filter { $0.key <= bound }.map(\.value).reduce(0, +)
            lines.append("nsi_batch_size_bucket{le=\"\(bound)\"} \(cumulative)")
        }
        lines.append("nsi_batch_size_bucket{le=\"+Inf\"} \(c.batches)")
        lines.append("nsi_batch_size_sum \(c.batchJobs)")
        lines.append("nsi_batch_size_count \(c.batches)")
        lines.append("# HELP nsi_batch_seconds_total Seconds spent running batches.")
        lines.append("# TYPE nsi_batch_seconds_total counter")
        lines.append(String(format: "nsi_batch_seconds_total %.3f", c.runSeconds))
        lines.append("# HELP nsi_http_requests_total Requests answered, by status.")
        lines.append("# TYPE nsi_http_requests_total counter")
        for (k, v) in c.requests.sorted(by: { $0.key < $1.key }) { lines.append("nsi_http_requests_total{status=\"\(k)\"} \(v)") }
        lines.append("# HELP nsi_rate_limited_total Requests refused with 429.")
        lines.append("# TYPE nsi_rate_limited_total counter")
        lines.append("nsi_rate_limited_total \(c.rateLimited)")
        lines.append("# HELP nsi_models Models this process hosts.")
        lines.append("# TYPE nsi_models gauge")
        for m in models { lines.append("nsi_models{name=\"\(m)\"} 1") }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// `24h`, `30m`, `90s`, `500ms` or plain seconds.
public func parseDuration(_ text: String) -> Double? {
    let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
    for (suffix, scale) in units where text.hasSuffix(suffix) {
        if let v = Double(text.dropLast(suffix.count)), v >= 0 { return v * scale }
    }
    return Double(text).flatMap { $0 >= 0 ? $0 : nil }
}

/// `4MB`, `512KB`, `1GB` or plain bytes.
public func parseByteSize(_ text: String) -> Int? {
    let units: [(String, Int)] = [("KB", 1 << 10), ("MB", 1 << 20), ("GB", 1 << 30), ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30)]
    for (suffix, scale) in units where text.uppercased().hasSuffix(suffix) {
        if let v = Int(text.dropLast(suffix.count)), v >= 0 { return v * scale }
    }
    return Int(text).flatMap { $0 >= 0 ? $0 : nil }
}
