import Foundation
import NSIVM

/// The worker process's side (`nsi serve-worker`, started by `nsi serve`, not by people):
/// loads one model, says it is ready, then runs each batch read from stdin and writes the
/// outcomes to stdout (`WorkerWire`). Cancel frames may arrive while a batch runs. The
/// worker ends when its stdin closes: the server stopped or died.
public enum WorkerMain {
    public static func run(name: String, directory: String, limits: VMLimits) -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        let model: HostedModel
        do {
            model = try HostedModel(name: name, directory: directory, limits: limits)
        } catch {
            FileHandle.standardError.write(Data("nsi serve-worker: cannot load model \(name): \(error)\n".utf8))
            return 2
        }
        let output = Locked(Int32(1))
        let send: @Sendable ([UInt8]) -> Void = { frame in
            let ok = output.withLock { WorkerWire.write(frame, to: $0) }
            // The server is gone: nothing is left to answer.
            if !ok { exit(0) }
        }
        send(WorkerWire.Writer(.ready).frame)
        let cancellations = Locked([RunCancellation]())
        let vm = DispatchQueue(label: "nsi.worker.vm")
        let maxFrame = WorkerWire.maxFrame(limits)
        while true {
            do {
                guard let body = try WorkerWire.read(from: 0, maxBytes: maxFrame) else { break }
                var r = WorkerWire.Reader(body)
                switch r.tag {
                case .batch:
                    let n = try r.int()
                    var jobs: [WorkerJob] = []
                    for _ in 0..<n {
                        let jobName = try r.string()
                        let plan = Data(try r.bytes())
                        var params: [String: String] = [:]
                        for _ in 0..<(try r.int()) { params[try r.string()] = try r.string() }
                        jobs.append(WorkerJob(name: jobName, plan: plan, params: params))
                    }
                    let cancels = jobs.map { _ in RunCancellation() }
                    cancellations.withLock { $0 = cancels }
                    let batch = UncheckedBox(jobs)
                    vm.async {
                        let outcomes = runBatch(batch.value, cancels: cancels, on: model) { index, line in
                            var w = WorkerWire.Writer(.progress)
                            w.int(index)
                            w.string(line)
                            send(w.frame)
                        }
                        for (i, outcome) in outcomes.enumerated() { send(WorkerWire.outcomeFrame(index: i, outcome)) }
                        send(WorkerWire.Writer(.done).frame)
                    }
                case .cancel:
                    let index = try r.int()
                    cancellations.withLock { if index < $0.count { $0[index].cancel() } }
                default:
                    FileHandle.standardError.write(Data("nsi serve-worker: an unexpected frame\n".utf8))
                    return 2
                }
            } catch {
                FileHandle.standardError.write(Data("nsi serve-worker: a malformed frame: \(error)\n".utf8))
                return 2
            }
        }
        return 0
    }

    /// Verifies each plan again (the worker trusts no bytes it reads), then runs those that
    /// verify together, as the server's own process would.
    static func runBatch(_ jobs: [WorkerJob], cancels: [RunCancellation], on model: HostedModel,
                         progress: @escaping (Int, String) -> Void) -> [JobOutcome] {
        var outcomes = [JobOutcome?](repeating: nil, count: jobs.count)
        var ready: [(Int, BatchJob)] = []
        for (i, job) in jobs.enumerated() {
            do {
                let program = try PlanRunner.verify(job.plan, for: model)
                ready.append((i, BatchJob(program: program, params: job.params.mapValues { .str($0) }, cancellation: cancels[i])))
            } catch {
                outcomes[i] = .failed(message: error.description, kind: error.kind)
            }
        }
        let results = PlanRunner.runBatch(ready.map(\.1), on: model) { k, line in progress(ready[k].0, line) }
        for ((i, _), result) in zip(ready, results) {
            outcomes[i] = JobOutcome(result, name: jobs[i].name, model: model.name, maxSavedBytes: model.vm.limits.maxSavedBytes)
        }
        return outcomes.map { $0 ?? .failed(message: "internal: no outcome", kind: JobFailure("internal")) }
    }
}
