import NSIClient
import Foundation

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
        var workerExits = 0
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
    func workerExit() { counts.withLock { $0.workerExits += 1 } }

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
        lines.append("# HELP nsi_worker_exits_total Worker processes that died running a batch (their jobs went back to the queue or failed as crash).")
        lines.append("# TYPE nsi_worker_exits_total counter")
        lines.append("nsi_worker_exits_total \(c.workerExits)")
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
