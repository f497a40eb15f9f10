import NSIClient
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
@testable import NSIServer

/// Batches in worker processes (`nsi serve-worker`): a worker that dies (killed from
/// outside, as the out-of-memory killer would) or hangs (stopped, as one instruction that
/// never checks its deadline would) takes its batch with it, never the server. Its jobs go
/// back to the queue and run alone; one that kills its worker each time fails as `crash`
/// after its attempts, and `/v1/health` answers throughout: asked while a worker's job
/// holds both cores, it answers (a state, not a time), and a probe every 100 ms never
/// waits `HealthProbe.freeze` (a server blocked on its worker would wait for the whole job).
@Suite(.serialized, .enabled(if: Paths.smollm != nil && Paths.nsi != nil, "needs models/smollm2-135m and the built nsi"))
struct WorkerProcessTests {
    /// `nsi serve` as a process of its own (its worker processes are its children), with a
    /// key: what a deployment runs, and not sharing this test process's threads.
    final class Served {
        let serve: ServeProcess
        let client: ServerClient
        let key: String
        let dir: String

        init(_ args: [String]) async throws {
            dir = try Paths.temporaryDirectory("workers")
            let store = dir + "/queue.sqlite"
            let (status, key) = try runProcess(Paths.nsi!, ["keys", "create", "--name", "alice", "--store", store])
            guard status == 0 else { throw ClientError("nsi keys create failed") }
            self.key = key.trimmingCharacters(in: .whitespacesAndNewlines)
            // The tests poll job states every 20 ms: no request rate limit.
            serve = try ServeProcess(nsi: Paths.nsi!, args: ["--model", "m=" + Paths.smollm!, "--store", store, "--rate", "0"] + args)
            client = try ServerClient(server: serve.url, key: self.key)
        }

        /// The server's worker process (its child running `serve-worker`), if one runs.
        var workerPID: Int32? { serve.workerPID }

        /// Requests to this server that block their thread and never suspend.
        var blocking: BlockingClient { BlockingClient(url: serve.url, key: key) }

        func metrics() async throws -> String {
            var r = URLRequest(url: URL(string: serve.url + "/v1/metrics")!)
            r.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
            return String(decoding: try await URLSession.shared.data(for: r).0, as: UTF8.self)
        }

        func stop() {
            serve.stop()
            try? FileManager.default.removeItem(atPath: dir)
        }
    }

    /// Probes /v1/health every 100 ms until stopped, on a thread of its own with a blocking
    /// socket (so what it times is the server, not this test process's task pool): the
    /// slowest answer and any failure.
    final class HealthProbe: @unchecked Sendable {
        /// The longest answer that is not a freeze: far above any answer seen on a loaded
        /// machine (under 0.1 s in CI, with the whole suite running), far below the minutes
        /// a job here holds its worker.
        static let freeze = 10.0
        let slowest = Locked(0.0)
        let failures = Locked([String]())
        let done = Locked(false)
        let finished = DispatchSemaphore(value: 0)

        init(url: String) {
            let port = UInt16(url.split(separator: ":").last!)!
            let thread = Thread { [self] in
                while !done.withLock({ $0 }) {
                    let start = Date()
                    if let problem = Self.health(port: port) { failures.withLock { $0.append(problem) } }
                    let took = Date().timeIntervalSince(start)
                    slowest.withLock { $0 = max($0, took) }
                    usleep(100_000)
                }
                finished.signal()
            }
            thread.start()
        }

        /// One `GET /v1/health` on a new connection: nil when it answered 200.
        static func health(port: UInt16) -> String? {
            guard let (status, body) = BlockingClient.request(port: port, method: "GET", path: "/v1/health") else { return "no answer" }
            return status == 200 ? nil : "status \(status): \(String(decoding: body, as: UTF8.self).prefix(40))"
        }

        func stop() async {
            done.withLock { $0 = true }
            let finished = self.finished
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                DispatchQueue.global().async { finished.wait(); c.resume() }
            }
        }
    }

    /// Waits until the job runs as its `attempt`th claim in a worker process other than
    /// `besides` (the one killed last), and returns that worker's pid. It polls
    /// with blocking requests and never suspends, so other tests busy on this process's
    /// threads cannot make it look late.
    func waitUntilRunning(_ served: Served, _ id: String, attempt: Int, besides: Int32? = nil) throws -> Int32 {
        let blocking = served.blocking
        var last = "nothing"
        for _ in 0..<15_000 {
            guard let (status, body) = blocking.get("/v1/jobs/\(id)"), status == 200,
                  let job = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any], let state = job["state"] as? String else {
                throw ClientError("GET /v1/jobs/\(id) failed")
            }
            last = String(decoding: body, as: UTF8.self) + "; worker pid: \(served.workerPID.map(String.init) ?? "none")"
            if state == "running", job["attempts"] as? Int == attempt, let pid = served.workerPID, pid != besides {
                return pid
            }
            if ["completed", "failed", "cancelled"].contains(state) {
                throw ClientError("job \(id) ended before its attempt \(attempt) was seen running: \(last)")
            }
            usleep(20_000)
        }
        throw ClientError("job \(id) was not seen running its attempt \(attempt) within 5 minutes; last seen: \(last)")
    }

    @Test func aWorkerKilledMidBatchFailsNoOtherJobAndNotTheServer() async throws {
        let served = try await Served(["--max-batch", "2", "--max-attempts", "2", "--job-deadline", "3600s"])
        defer { served.stop() }
        let probe = HealthProbe(url: served.serve.url)
        let client = served.client
        let generation = "generate \"The capital of France is\" (max_tokens = 200) { save ids = result.ids }\n"
        // A job that cannot share and runs for a while holds the worker (then stopped with
        // SIGSTOP, so that it holds it however long what follows takes) until both below are
        // queued; cancelled, its worker is killed, and they are taken together. From the
        // first submission until both attempts are killed, every step is a blocking request:
        // nothing here awaits, so no late resumption (the whole suite busy on this process's
        // threads) can let a job run out before it is seen.
        // (Each product depends on `i`, so none is computed once for all: about 27 TFLOP.)
        let holding = holdingScript
        let first = try served.blocking.submit(holding, name: "first.nsi")
        let holder = try waitUntilRunning(served, first, attempt: 1)
        // Its products hold both cores now (they run for minutes): the server answers.
        #expect(HealthProbe.health(port: served.blocking.port) == nil)
        #expect(try served.blocking.state(first) == "running")
        kill(holder, SIGSTOP)
        let poison = try served.blocking.submit(generation, name: "poison.nsi")
        let cotenant = try served.blocking.submit(generation, name: "cotenant.nsi")
        try served.blocking.cancel(first)
        kill(holder, SIGKILL)

        // First attempt: both share the worker's batch, and the worker is killed.
        let pid1 = try waitUntilRunning(served, poison, attempt: 1, besides: holder)
        kill(pid1, SIGKILL)
        // Second attempt: the poison job runs alone (jobs taken before run alone), and its
        // worker is killed again: its two attempts are spent.
        let pid2 = try waitUntilRunning(served, poison, attempt: 2, besides: pid1)
        kill(pid2, SIGKILL)

        let cancelled = try await client.follow(first, stream: false, pollInterval: 0.05)
        #expect(cancelled.state == "cancelled", "\(cancelled.state): \(cancelled.error ?? "")")
        let failed = try await client.follow(poison, stream: false, pollInterval: 0.05)
        #expect(failed.state == "failed" && failed.errorKind == "crash", "\(failed.state) \(failed.errorKind ?? "")")
        let message = failed.error ?? ""
        #expect(message.contains("killed by signal 9") && message.contains("2 attempts"), "\(message)")
        // The co-tenant of the first batch ran again, alone, in another worker process.
        let done = try await client.follow(cotenant, stream: false, pollInterval: 0.05)
        #expect(done.state == "completed" && done.attempts == 2 && done.batchSize == 1, "\(done.state) \(done.attempts ?? 0) \(done.error ?? "")")
        let results = try await client.results(cotenant)
        // The same script run after, by the same worker: byte-identical results.
        let again = try await client.submit(script: generation, name: "cotenant.nsi", model: nil, params: [:]).id
        #expect(try await client.follow(again, stream: false, pollInterval: 0.05).state == "completed")
        #expect(try await client.results(again).safetensors == results.safetensors)

        #expect(try await served.metrics().contains("nsi_worker_exits_total 3"))
        await probe.stop()
        #expect(probe.failures.withLock { $0 }.isEmpty, "health: \(probe.failures.withLock { $0 })")
        #expect(probe.slowest.withLock { $0 } < HealthProbe.freeze, "slowest health answer \(probe.slowest.withLock { $0 }) s")
        print("worker kill: health's slowest answer \(String(format: "%.3f", probe.slowest.withLock { $0 })) s")
    }

    /// A worker that stops answering (here: SIGSTOP before a batch reaches it, as one
    /// instruction that never checks its deadline would look) is stopped once the batch has run
    /// `workerGrace` past the job deadline; the job fails as `crash`, and the next job
    /// runs in a new worker.
    @Test func aHungWorkerIsStoppedPastTheDeadline() async throws {
        let served = try await Served(["--max-attempts", "1", "--job-deadline", "20s", "--worker-grace", "1s"])
        defer { served.stop() }
        let probe = HealthProbe(url: served.serve.url)
        let client = served.client
        // The worker started by a first job, then stopped while idle: the next job's batch
        // reaches a worker that never answers, whenever this test resumes. (The jobs that
        // must complete are one layer's trace, milliseconds against the 20 s deadline
        // however busy the machine; a new worker's loading does not count against it.)
        let short = "trace \"The capital of France is\" { save h = model.layers[0].output[0, -1] }\n"
        let warm = try await client.submit(script: short, name: "warm.nsi", model: nil, params: [:]).id
        #expect(try await client.follow(warm, stream: false, pollInterval: 0.05).state == "completed")
        let pid = try #require(served.workerPID)
        kill(pid, SIGSTOP)
        let stoppedAt = Date()
        let hung = try await client.submit(script: generateScript, name: "hung.nsi", model: nil, params: [:]).id
        let failed = try await client.follow(hung, stream: false, pollInterval: 0.05)
        #expect(failed.state == "failed" && failed.errorKind == "crash", "\(failed.state) \(failed.errorKind ?? "")")
        #expect(failed.error?.contains("past its deadline") == true, "\(failed.error ?? "")")
        print("hung worker: its job failed \(String(format: "%.1f", Date().timeIntervalSince(stoppedAt))) s after the worker was stopped (deadline 20 s, grace 1 s)")
        let next = try await client.submit(script: short, name: "g.nsi", model: nil, params: [:]).id
        let done = try await client.follow(next, stream: false, pollInterval: 0.05)
        #expect(done.state == "completed", "\(done.state): \(done.error ?? "")")
        #expect(served.workerPID != pid)
        await probe.stop()
        #expect(probe.failures.withLock { $0 }.isEmpty, "health: \(probe.failures.withLock { $0 })")
        #expect(probe.slowest.withLock { $0 } < HealthProbe.freeze, "slowest health answer \(probe.slowest.withLock { $0 }) s")
        print("hung worker: health's slowest answer \(String(format: "%.3f", probe.slowest.withLock { $0 })) s")
    }

    /// A cancel reaches a running job in its worker as a cancel frame: the job ends
    /// `cancelled` and the worker lives on (no exit counted, the same process runs the
    /// next job). A worker killed instead, or a cancel that is never delivered (the job
    /// would run its minutes of products), fails this.
    @Test func aCancelStopsARunningJobInItsWorkerWithoutKillingIt() async throws {
        let served = try await Served(["--job-deadline", "3600s"])
        defer { served.stop() }
        let long = holdingScript
        let blocking = served.blocking
        let job = try blocking.submit(long, name: "long.nsi")
        let worker = try waitUntilRunning(served, job, attempt: 1)
        try blocking.cancel(job)
        let ended = try await served.client.follow(job, stream: false, pollInterval: 0.05)
        #expect(ended.state == "cancelled", "\(ended.state): \(ended.error ?? "")")
        #expect(ended.attempts == 1)
        #expect(kill(worker, 0) == 0, "the worker process is gone")
        #expect(served.workerPID == worker)
        let short = "trace \"The capital of France is\" { save h = model.layers[0].output[0, -1] }\n"
        let next = try await served.client.submit(script: short, name: "next.nsi", model: nil, params: [:]).id
        #expect(try await served.client.follow(next, stream: false, pollInterval: 0.05).state == "completed")
        #expect(served.workerPID == worker, "the next job ran in another worker")
        let metrics = try await served.metrics()
        #expect(metrics.contains("nsi_worker_exits_total 0"), "\(metrics.split(separator: "\n").filter { $0.contains("worker") })")
    }

    /// The frames between server and worker: what is written reads back, and a frame cut
    /// short or too long is refused, not trusted.
    @Test func framesRoundTripAndMalformedOnesAreRefused() throws {
        var w = WorkerWire.Writer(.progress)
        w.int(3)
        w.string("step 4/12 é")
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        #expect(WorkerWire.write(w.frame, to: fds[1]))
        var long = WorkerWire.Writer(.outcome)
        long.bytes([UInt8](repeating: 7, count: 5000))
        #expect(WorkerWire.write(long.frame, to: fds[1]))
        #expect(WorkerWire.write(Array(w.frame.prefix(10)), to: fds[1]))
        close(fds[1])
        var r = WorkerWire.Reader(try #require(try WorkerWire.read(from: fds[0], maxBytes: 1 << 20)))
        #expect(r.tag == .progress)
        #expect(try r.int() == 3 && r.string() == "step 4/12 é")
        #expect(throws: WorkerWire.Malformed.self) { try r.int() }
        // Past the reader's bound: refused.
        #expect(throws: WorkerWire.Malformed.self) { _ = try WorkerWire.read(from: fds[0], maxBytes: 1000) }
        var cut = WorkerWire.Reader([WorkerWire.Tag.batch.rawValue, 200, 0, 0, 0, 0, 0, 0, 0, 1, 2])
        #expect(throws: WorkerWire.Malformed.self) { _ = try cut.bytes() }
    }
}
