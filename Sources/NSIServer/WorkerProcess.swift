import Foundation
import NSIVM

/// What became of one job of a batch, in the form the store keeps: its results file and
/// sidecar, or the failure message and kind. A worker process sends these back; a batch
/// run in the server's own process ends in them too, so both paths store alike.
enum JobOutcome: Sendable {
    case results(StoredResults)
    case failed(message: String, kind: JobFailure)

    /// `maxSavedBytes` bounds what is stored: the results file and its JSON sidecar
    /// together (the VM counts the saved values as it runs; the sidecar's prompts, ids and
    /// strings, escaped as JSON up to 6 bytes a byte, are known only here).
    init(_ outcome: Result<RunResults, any Error>, name: String, model: String, maxSavedBytes: Int) {
        switch outcome {
        case .success(let results):
            do {
                let stored = try PlanRunner.encode(results, name: name, model: model)
                let total = stored.safetensors.count + stored.sidecar.utf8.count
                guard total <= maxSavedBytes else {
                    self = .failed(message: "\(name): the results file and its JSON sidecar take \(total) bytes; the saved-bytes limit is \(maxSavedBytes) bytes",
                                   kind: .savedBytes)
                    return
                }
                self = .results(stored)
            } catch {
                self = .failed(message: "cannot store the results: \(error)", kind: .storage)
            }
        case .failure(let error):
            self = .failed(message: "\(name):\(error)", kind: JobFailure(VMError(wrapping: error)))
        }
    }
}

/// One job as a worker process is given it: the verified plan's bytes (the worker decodes
/// and verifies them again: it trusts nothing it reads) and run-time params.
struct WorkerJob: Sendable {
    var name: String
    var plan: Data
    var params: [String: String]
}

/// Why a worker process ended a batch without answering for it.
struct WorkerDied: Error, CustomStringConvertible, Sendable {
    let description: String
}

/// The frames the server and a worker process exchange over the worker's stdin and
/// stdout: an 8-byte little-endian length, then a tag byte and the fields, each a fixed
/// width integer or a length-prefixed byte string.
enum WorkerWire {
    enum Tag: UInt8 {
        /// Server to worker: jobs to run together (name, plan, params each).
        case batch = 1
        /// Server to worker: cancel the job at an index of the running batch.
        case cancel = 2
        /// Worker to server: the model is loaded; batches may come.
        case ready = 10
        /// Worker to server: a progress line of the job at an index.
        case progress = 11
        /// Worker to server: the outcome of the job at an index (one frame per job, so no
        /// frame holds more than one job's results).
        case outcome = 12
        /// Worker to server: the batch is over; every job's outcome was sent.
        case done = 13
    }

    /// The largest frame either side reads: one job's results up to the saved-bytes limit,
    /// with room for its sidecar; a batch of plans (each within the request body limit).
    static func maxFrame(_ limits: VMLimits) -> Int {
        let (n, overflow) = max(limits.maxSavedBytes, 0).addingReportingOverflow(256 << 20)
        return overflow ? Int.max : n
    }

    /// One job's outcome as the worker sends it.
    static func outcomeFrame(index: Int, _ outcome: JobOutcome) -> [UInt8] {
        var w = Writer(.outcome)
        w.int(index)
        switch outcome {
        case .results(let stored):
            w.int(1)
            w.bytes(stored.safetensors)
            w.string(stored.sidecar)
        case .failed(let message, let kind):
            w.int(0)
            w.string(message)
            w.string(kind.description)
        }
        return w.frame
    }

    struct Writer {
        private(set) var body: [UInt8]
        init(_ tag: Tag) { body = [tag.rawValue] }
        mutating func int(_ v: Int) { withUnsafeBytes(of: UInt64(truncatingIfNeeded: v).littleEndian) { body.append(contentsOf: $0) } }
        mutating func bytes<C: Collection>(_ d: C) where C.Element == UInt8 { int(d.count); body.append(contentsOf: d) }
        mutating func string(_ s: String) { bytes(Array(s.utf8)) }
        /// The frame: its length, then its body.
        var frame: [UInt8] {
            var f: [UInt8] = []
            f.reserveCapacity(body.count + 8)
            withUnsafeBytes(of: UInt64(body.count).littleEndian) { f.append(contentsOf: $0) }
            f.append(contentsOf: body)
            return f
        }
    }

    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    struct Reader {
        let body: [UInt8]
        var at = 1
        init(_ body: [UInt8]) { self.body = body }
        var tag: Tag? { body.first.flatMap(Tag.init(rawValue:)) }
        mutating func int() throws(Malformed) -> Int {
            guard body.count - at >= 8 else { throw Malformed(description: "a frame ends inside a number") }
            var v: UInt64 = 0
            for i in 0..<8 { v |= UInt64(body[at + i]) << (8 * UInt64(i)) }
            at += 8
            guard v <= UInt64(Int.max) else { throw Malformed(description: "a number out of range") }
            return Int(v)
        }
        mutating func bytes() throws(Malformed) -> ArraySlice<UInt8> {
            let n = try int()
            guard n <= body.count - at else { throw Malformed(description: "a field runs past its frame") }
            defer { at += n }
            return body[at..<at + n]
        }
        mutating func string() throws(Malformed) -> String { String(decoding: try bytes(), as: UTF8.self) }
    }

    /// Writes a whole frame; false when the other side is gone.
    static func write(_ bytes: [UInt8], to fd: Int32) -> Bool {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            done += n
        }
        return true
    }

    /// Reads one frame's body; nil at the end of the stream or on a read error. A frame
    /// that says it is empty or longer than `maxBytes` is refused unread.
    static func read(from fd: Int32, maxBytes: Int) throws(Malformed) -> [UInt8]? {
        func fill(_ buffer: UnsafeMutableRawBufferPointer) -> Bool {
            var done = 0
            while done < buffer.count {
                let n = Glibc.read(fd, buffer.baseAddress! + done, buffer.count - done)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return false }
                done += n
            }
            return true
        }
        var header = [UInt8](repeating: 0, count: 8)
        guard header.withUnsafeMutableBytes(fill) else { return nil }
        var length: UInt64 = 0
        for i in 0..<8 { length |= UInt64(header[i]) << (8 * UInt64(i)) }
        guard length >= 1 else { throw Malformed(description: "an empty frame") }
        guard length <= UInt64(maxBytes) else { throw Malformed(description: "a frame of \(length) bytes, past the bound of \(maxBytes)") }
        var body = [UInt8](repeating: 0, count: Int(length))
        guard body.withUnsafeMutableBytes(fill) else { return nil }
        return body
    }
}

/// A worker process the server runs one model's batches in, so that whatever kills a
/// process (a crash, the kernel's out-of-memory killer, a job that never stops) kills the
/// worker and not the server. It is `nsi serve-worker`: it maps the model's weights (the
/// page cache holds one copy for the server and its workers), runs the batches it is sent
/// one at a time, and answers with each job's stored form. A worker that dies is started
/// again for the next batch.
final class WorkerProcess: @unchecked Sendable {
    /// The executable and the arguments before the worker's own (`nsi`, `serve-worker`).
    let command: [String]
    let name: String
    let directory: String
    let limits: VMLimits
    /// How long past its deadline a batch may run before its worker is stopped.
    let grace: Double
    /// How long a new worker may take to load the model before it is stopped. The batch's
    /// own clock starts when the worker is ready, so a slow load costs no job its deadline.
    let loadLimit: Double

    private let lock = NSLock()
    private var process: Process?
    private var toChild: Pipe?
    private var fromChild: Pipe?
    private var stopped = false
    /// Why the watchdog stopped the worker, when it did.
    private var watchdogReason: String?
    /// A worker was started and has not said it is ready.
    private var loading = false

    init(command: [String], name: String, directory: String, limits: VMLimits, grace: Double = 30, loadLimit: Double = 120) {
        self.command = command
        self.name = name
        self.directory = directory
        self.limits = limits
        self.grace = grace
        self.loadLimit = loadLimit
    }

    /// The worker's arguments after `command`.
    var arguments: [String] {
        var a = ["--name", name, "--directory", directory,
                 "--max-saved-bytes", String(limits.maxSavedBytes), "--max-register-bytes", String(limits.maxRegisterBytes),
                 "--max-generated-tokens", String(limits.maxGeneratedTokens), "--max-instructions", String(limits.maxInstructions)]
        if let d = limits.deadline { a += ["--deadline", String(d)] }
        return a
    }

    /// Starts a worker if none runs, and waits until it has loaded the model.
    private func ensureStarted() throws(WorkerDied) -> (to: Int32, from: Int32) {
        let (fds, fresh) = try { () throws(WorkerDied) -> ((Int32, Int32), Bool) in
            lock.lock()
            defer { lock.unlock() }
            if stopped { throw WorkerDied(description: "the server is stopping") }
            if let p = process, p.isRunning, let t = toChild, let f = fromChild {
                return ((t.fileHandleForWriting.fileDescriptor, f.fileHandleForReading.fileDescriptor), false)
            }
            let p = Process()
            p.executableURL = URL(fileURLWithPath: command[0])
            p.arguments = Array(command.dropFirst()) + arguments
            let input = Pipe(), output = Pipe()
            p.standardInput = input
            p.standardOutput = output
            do { try p.run() } catch { throw WorkerDied(description: "cannot start a worker process: \(error)") }
            process = p
            toChild = input
            fromChild = output
            loading = true
            return ((input.fileHandleForWriting.fileDescriptor, output.fileHandleForReading.fileDescriptor), true)
        }()
        if fresh {
            let body: [UInt8]?
            do { body = try WorkerWire.read(from: fds.1, maxBytes: 1 << 16) } catch { throw malformed(error) }
            guard let body else { throw reap(during: "while loading the model") }
            guard body.first == WorkerWire.Tag.ready.rawValue else { throw malformed(.init(description: "a first frame other than ready")) }
            lock.withLock { loading = false }
        }
        return fds
    }

    /// Waits for the worker that closed its output and says how it ended.
    private func reap(during: String) -> WorkerDied {
        let p: Process? = lock.withLock {
            let p = process
            process = nil
            toChild = nil
            fromChild = nil
            loading = false
            return p
        }
        guard let p else { return WorkerDied(description: "the worker process stopped \(during)") }
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        let fired = lock.withLock { () -> String? in
            defer { watchdogReason = nil }
            return watchdogReason
        }
        if let fired {
            return WorkerDied(description: "the worker process was stopped \(during): \(fired)")
        }
        switch p.terminationReason {
        case .uncaughtSignal:
            return WorkerDied(description: "the worker process was killed by signal \(p.terminationStatus) (\(Self.signalName(p.terminationStatus))) \(during)")
        default:
            return WorkerDied(description: "the worker process exited with status \(p.terminationStatus) \(during)")
        }
    }

    static func signalName(_ s: Int32) -> String {
        switch s {
        case SIGKILL: return "SIGKILL: out of memory, or stopped from outside"
        case SIGSEGV: return "SIGSEGV"
        case SIGABRT: return "SIGABRT"
        case SIGILL: return "SIGILL: a trap"
        case SIGTRAP: return "SIGTRAP: a trap"
        case SIGBUS: return "SIGBUS"
        case SIGFPE: return "SIGFPE"
        case SIGTERM: return "SIGTERM"
        default: return "signal \(s)"
        }
    }

    /// Runs one batch in the worker (blocking: call it on the model's VM thread): every
    /// job's outcome in order, or `WorkerDied` when the worker ended first. `progress` gets
    /// each job's progress lines.
    func run(_ jobs: [WorkerJob], progress: @escaping (Int, String) -> Void) throws(WorkerDied) -> [JobOutcome] {
        var w = WorkerWire.Writer(.batch)
        w.int(jobs.count)
        for job in jobs {
            w.string(job.name)
            w.bytes(job.plan)
            w.int(job.params.count)
            for (k, v) in job.params.sorted(by: { $0.key < $1.key }) {
                w.string(k)
                w.string(v)
            }
        }
        let frame = w.frame
        let serial = lock.withLock { () -> Int in
            busy = true
            batchSerial += 1
            return batchSerial
        }
        defer { lock.withLock { busy = false } }
        // A worker that does not load the model in time is stopped.
        watch(serial, after: loadLimit, whileLoading: true, "it did not load the model within \(String(format: "%g", loadLimit)) s")
        let (to, from) = try ensureStarted()
        // A batch that runs well past its deadline (one instruction that does not stop)
        // has its worker stopped: the deadline bounds every job's time. Each member's own
        // instructions count against its own deadline only, so a batch may take the
        // deadline once per member. The clock starts once the worker is ready.
        if let deadline = limits.deadline {
            watch(serial, after: deadline * Double(jobs.count) + grace, whileLoading: false, "the batch ran \(String(format: "%g", grace)) s past its deadline")
        }
        let sent = lock.withLock { WorkerWire.write(frame, to: to) }
        guard sent else { throw reap(during: "before it took the batch") }
        var outcomes = [JobOutcome?](repeating: nil, count: jobs.count)
        while true {
            let read: [UInt8]?
            do { read = try WorkerWire.read(from: from, maxBytes: WorkerWire.maxFrame(limits)) } catch { throw malformed(error) }
            guard let body = read else { throw reap(during: "while running the batch") }
            var r = WorkerWire.Reader(body)
            do throws(WorkerWire.Malformed) {
                switch r.tag {
                case .progress:
                    let index = try r.int()
                    let line = try r.string()
                    if index < jobs.count { progress(index, line) }
                case .outcome:
                    let index = try r.int()
                    guard index < jobs.count, outcomes[index] == nil else { throw WorkerWire.Malformed(description: "an outcome for job \(index) of \(jobs.count)") }
                    if try r.int() == 1 {
                        let data = Data(try r.bytes())
                        outcomes[index] = .results(StoredResults(safetensors: data, sidecar: try r.string()))
                    } else {
                        let message = try r.string()
                        outcomes[index] = .failed(message: message, kind: JobFailure(try r.string()))
                    }
                case .done:
                    let all = outcomes.compactMap { $0 }
                    guard all.count == jobs.count else { throw WorkerWire.Malformed(description: "\(all.count) outcomes for \(jobs.count) jobs") }
                    return all
                default:
                    throw WorkerWire.Malformed(description: "an unexpected frame")
                }
            } catch {
                throw malformed(error)
            }
        }
    }

    /// Stops a worker that answered with something other than the protocol: it is not
    /// trusted further.
    private func malformed(_ error: WorkerWire.Malformed) -> WorkerDied {
        stopCurrent()
        _ = reap(during: "after a malformed answer")
        return WorkerDied(description: "the worker process sent a malformed answer (\(error)); it was stopped")
    }

    /// Stops the worker `seconds` from now if batch `serial` is still running then (and,
    /// with `whileLoading`, its worker still loading), saying `reason`.
    private func watch(_ serial: Int, after seconds: Double, whileLoading: Bool, _ reason: String) {
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [weak self] in
            guard let self else { return }
            self.lock.withLock {
                guard self.busy, self.batchSerial == serial, !whileLoading || self.loading,
                      let p = self.process, p.isRunning else { return }
                self.watchdogReason = reason
                kill(p.processIdentifier, SIGKILL)
            }
        }
    }

    /// A batch is running; which one (the watchdog stops only its own batch's worker).
    private var busy = false
    private var batchSerial = 0

    /// Asks the worker to cancel the running batch's job at `index`.
    func cancel(_ index: Int) {
        var w = WorkerWire.Writer(.cancel)
        w.int(index)
        let frame = w.frame
        lock.withLock {
            guard let t = toChild, process?.isRunning == true else { return }
            _ = WorkerWire.write(frame, to: t.fileHandleForWriting.fileDescriptor)
        }
    }

    private func stopCurrent() {
        lock.withLock {
            if let p = process, p.isRunning { kill(p.processIdentifier, SIGKILL) }
        }
    }

    /// Stops the worker for good (the server is stopping).
    func stop() {
        lock.withLock {
            stopped = true
            if let p = process, p.isRunning { kill(p.processIdentifier, SIGKILL) }
        }
    }
}
