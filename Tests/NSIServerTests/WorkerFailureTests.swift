import NSIClient
import Foundation
import Testing
@testable import NSIServer
import NSIVM
import NSITestSupport

/// The ways a worker process can fail the server short of running a batch: it cannot be
/// started, it ends while loading the model or while running a batch, or it answers with
/// something other than the protocol. Each ends the batch with a message that says which,
/// the worker (if still running) is stopped, and the next batch starts a new one. Stand-in
/// workers are small shell scripts that write frames with `printf`; the server side is the
/// real `WorkerProcess`.
@Suite struct WorkerFailureTests {
    /// `printf` octal escapes of one frame: its 8-byte little-endian length, then `body`.
    static func frame(_ body: [UInt8]) -> String {
        var length: [UInt8] = []
        withUnsafeBytes(of: UInt64(body.count).littleEndian) { length.append(contentsOf: $0) }
        return (length + body).map { "\\" + String($0, radix: 8) }.joined()
    }

    static func int(_ v: Int) -> [UInt8] {
        var b: [UInt8] = []
        withUnsafeBytes(of: UInt64(v).littleEndian) { b.append(contentsOf: $0) }
        return b
    }

    static func string(_ s: String) -> [UInt8] { int(s.utf8.count) + Array(s.utf8) }

    static let ready = frame([WorkerWire.Tag.ready.rawValue])
    static let done = frame([WorkerWire.Tag.done.rawValue])
    /// Job 0 failed with `input` "boom": a well-formed outcome.
    static let failedOutcome = frame([WorkerWire.Tag.outcome.rawValue] + int(0) + int(0) + string("boom") + string("input"))

    /// A worker running `script` under /bin/sh (the worker's usual arguments follow as $1...).
    static func worker(_ script: String) -> WorkerProcess {
        WorkerProcess(command: ["/bin/sh", "-c", script, "worker"], name: "m", directory: "/nonexistent",
                      limits: VMLimits(), grace: 1)
    }

    static let job = WorkerJob(name: "a.nsi", plan: Data([1, 2, 3]), params: ["p": "1"])

    /// How running one job on `process` ended: the outcome's message, or why the worker died.
    static func run(_ process: WorkerProcess) -> String {
        do {
            let outcomes = try process.run([job]) { _, _ in }
            guard case .failed(let message, let kind) = outcomes.first else { return "results" }
            return "outcome \(kind): \(message)"
        } catch {
            return "died: \(error)"
        }
    }

    @Test(arguments: [
        // Nothing to start.
        ("", "cannot start a worker process"),
        // Ends, or is killed, before it says it is ready (a model it cannot load).
        ("exit 3", "exited with status 3 while loading the model"),
        ("ulimit -c 0; kill -SEGV $$", "killed by signal 11 (SIGSEGV) while loading the model"),
        // Says something else first.
        ("printf '\(done)'; exec sleep 600", "malformed answer (a first frame other than ready)"),
        // Ready, then ends mid-batch.
        ("printf '\(ready)'; head -c 1 > /dev/null; exit 0", "exited with status 0 while running the batch"),
        // Ready with its input already closed: the batch cannot be sent.
        ("exec 0<&-; printf '\(ready)'; exec sleep 600", "before it took the batch"),
        // Ready, then frames the protocol does not have, or cannot be.
        ("printf '\(ready)\(frame([99]))'; exec sleep 600", "malformed answer (an unexpected frame)"),
        ("printf '\(ready)\(frame([WorkerWire.Tag.outcome.rawValue] + int(5)))'; exec sleep 600", "malformed answer (an outcome for job 5 of 1)"),
        ("printf '\(ready)\(done)'; exec sleep 600", "malformed answer (0 outcomes for 1 jobs)"),
        ("printf '\(ready)\(frame([WorkerWire.Tag.outcome.rawValue, 0, 0]))'; exec sleep 600", "malformed answer (a frame ends inside a number)"),
        ("printf '\(ready)\\377\\377\\377\\377\\377\\377\\377\\177'; exec sleep 600", "malformed answer (a frame of 9223372036854775807 bytes, past the bound of"),
        ("printf '\(ready)\\0\\0\\0\\0\\0\\0\\0\\0'; exec sleep 600", "malformed answer (an empty frame)"),
    ])
    func aFailingWorkerEndsItsBatchWithWhy(script: String, expected: String) {
        signal(SIGPIPE, SIG_IGN)
        let process = script.isEmpty
            ? WorkerProcess(command: ["/nonexistent/nsi"], name: "m", directory: "/nonexistent", limits: VMLimits())
            : Self.worker(script)
        defer { process.stop() }
        let started = Date()
        let ended = Self.run(process)
        #expect(ended.hasPrefix("died: ") && ended.contains(expected), "\(ended)")
        // A worker that sleeps (600 s) after a malformed answer was stopped, not waited for:
        // an end well inside the sleep, however busy the machine.
        #expect(Date().timeIntervalSince(started) < 120)
    }

    /// A worker that never says it is ready (a load that hangs) is stopped after the load
    /// limit, which is its own: the batch's deadline clock has not started.
    @Test func aWorkerThatDoesNotLoadInTimeIsStopped() {
        let process = WorkerProcess(command: ["/bin/sh", "-c", "exec sleep 600", "worker"], name: "m", directory: "/nonexistent",
                                    limits: VMLimits(deadline: 60), grace: 1, loadLimit: 0.5)
        defer { process.stop() }
        let started = Date()
        let ended = Self.run(process)
        #expect(ended == "died: the worker process was stopped while loading the model: it did not load the model within 0.5 s", "\(ended)")
        #expect(Date().timeIntervalSince(started) < 120)
    }

    /// After a worker is stopped for a malformed answer, the next batch starts a new one and
    /// reads its answers: the first start of this script misbehaves, the second answers.
    @Test func theNextBatchStartsANewWorker() throws {
        signal(SIGPIPE, SIG_IGN)
        let marker = try Fixtures.temporaryDirectory("worker-restart") + "/started"
        let script = """
            if [ -e '\(marker)' ]; then printf '\(Self.ready)'; head -c 1 > /dev/null; printf '\(Self.failedOutcome)\(Self.done)'; exec sleep 30
            else touch '\(marker)'; printf '\(Self.ready)\(Self.frame([99]))'; exec sleep 30; fi
            """
        let process = Self.worker(script)
        defer { process.stop() }
        let first = Self.run(process)
        #expect(first.contains("malformed answer (an unexpected frame)"), "\(first)")
        let second = Self.run(process)
        #expect(second == "outcome input: boom", "\(second)")
    }
}

/// A server whose workers cannot load the model fails each job as `crash` after its
/// attempts, says why, and keeps answering.
@Suite(.enabled(if: Paths.smollm != nil, "needs models/smollm2-135m"))
struct WorkerStartFailureTests {
    @Test func aWorkerThatCannotLoadFailsItsJobsNotTheServer() async throws {
        let live = try await LiveServer.start(model: Paths.smollm!) {
            $0.workerCommand = ["/bin/sh", "-c", "exit 3", "worker"]
            $0.maxAttempts = 2
        }
        let key = try await live.makeKey("alice")
        let client = try ServerClient(server: live.url, key: key)
        let id = try await client.submit(script: probeScript, name: "probe.nsi", model: nil, params: [:]).id
        let job = try await client.follow(id, stream: false, pollInterval: 0.05)
        #expect(job.state == "failed" && job.errorKind == "crash", "\(job.state) \(job.errorKind ?? "")")
        let message = job.error ?? ""
        #expect(message.contains("exited with status 3 while loading the model") && message.contains("2 attempts"), "\(message)")
        #expect(try await live.http("GET", "/v1/health").status == 200)
        let metrics = String(decoding: try await live.http("GET", "/v1/metrics", key: key).body, as: UTF8.self)
        #expect(metrics.contains("nsi_worker_exits_total 2"), "\(metrics.split(separator: "\n").filter { $0.contains("worker") })")
        await live.stop()
    }
}

/// Limits given to `nsi serve` in a form it cannot read stop it before it serves, with a
/// message that names the flag and the forms it takes.
@Suite(.enabled(if: Paths.nsi != nil, "needs the built nsi"))
struct ServeFlagTests {
    @Test(arguments: [
        (["--max-flops", "12Q"], "--max-flops takes a count like 100T, 500G or 2e12, not 12Q"),
        (["--max-flops=-5T"], "--max-flops takes a count like 100T, 500G or 2e12, not -5T"),
        (["--worker-grace", "forever"], "--worker-grace takes a duration like 24h, 30m, 90s or 500ms, not forever"),
        (["--job-deadline=-1s"], "--job-deadline takes a duration like 24h, 30m, 90s or 500ms, not -1s"),
        (["--max-saved", "lots"], "--max-saved takes a size like 4MB, 512KB or 1048576, not lots"),
    ])
    func badLimitsAreRefusedBeforeServing(flags: [String], message: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Paths.nsi!)
        p.arguments = ["serve", "--port", "0", "--model", "m=" + Paths.tiny, "--store", "/nonexistent/queue.sqlite"] + flags
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let said = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus != 0)
        #expect(said.contains(message), "\(said)")
        #expect(out.fileHandleForReading.readDataToEndOfFile().isEmpty, "it printed a listening line")
    }
}
