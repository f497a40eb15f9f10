import Foundation
import Testing
import NSI
import NSITestSupport

/// One plan on one loaded model from 8 threads at once, each with its own run-time
/// params: every run gives what it gives alone. (The memory 8 concurrent runs add is measured
/// by `nsi-bench --only concurrency8`, in a process of its own.)
@Suite(.enabled(if: Fixtures.modelDirectory != nil, "models/smollm2-135m not fetched"))
struct ConcurrencyTests {
    static let script = """
        param prompt: str = "The Eiffel Tower is located in the city of"
        param scale: float = 0.0
        trace prompt {
            model.layers[6].output[:, -1] += scale
            save h = model.layers[12].output[0, -1]
            save top = model.logits[0, -1].topk(5)
        }
        generate prompt (max_tokens = 3) {
            each step { model.layers[6].output += scale }
            save ids = result.ids
        }
        """

    static let prompts = ["The Eiffel Tower is located in the city of", "The capital of France is", "I think that you are",
                          "When John and Mary went to the store, Mary gave a drink to", "Hello", "One, two, three,",
                          "The Colosseum is located in the city of", "Water boils at"]

    static func params(_ i: Int) -> [String: Value] {
        ["prompt": .string(prompts[i]), "scale": .float(Double(i) * 0.25)]
    }

    @Test func eightThreadsGiveWhatEightSequentialRunsGive() throws {
        let before = residentMiB()
        let model = try Fixtures.model()
        let plan = try Plan(compiling: Self.script, for: model, path: "concurrency.nsi")
        let afterLoad = residentMiB()

        let sequential = try (0..<8).map { try model.run(plan, params: Self.params($0)) }
        let afterSequential = residentMiB()

        let mappingsBefore = weightMappings()
        let monitor = PeakMonitor()
        // Eight threads of their own (Dispatch's pool would run only as many at once as
        // there are cores), started together.
        let results = Guarded([Result<Results, NSIError>?](repeating: nil, count: 8))
        let start = DispatchSemaphore(value: 0), finished = DispatchGroup()
        for i in 0..<8 {
            finished.enter()
            Thread.detachNewThread {
                start.wait()
                let r = Result { () throws(NSIError) -> Results in try model.run(plan, params: Self.params(i)) }
                results.update { $0[i] = r }
                finished.leave()
            }
        }
        for _ in 0..<8 { start.signal() }
        finished.wait()
        let concurrent = results.get()
        let peak = monitor.stop()
        let mappingsAfter = weightMappings()

        for i in 0..<8 {
            let r = try #require(concurrent[i]).get()
            #expect(identical(r, sequential[i]), "run \(i) (\(Self.prompts[i])) differs when 8 run at once")
        }
        // Different params give different results (the comparison above is not vacuous).
        #expect(!identical(sequential[0], sequential[1]))

        // Memory is a measurement of this process, which other suites share (and load
        // models in): printed with its conditions, not asserted. `nsi-bench --only
        // concurrency8` measures it in a process of its own.
        if let before, let afterLoad, let afterSequential, let peak {
            print(String(format: "resident memory (whole test process, other suites running): %.0f MiB before loading, "
                         + "%.0f MiB after load and compile, %.0f MiB after 8 sequential runs, peak %.0f MiB during 8 concurrent runs "
                         + "(%d weight mappings before, %d after)",
                         before.rss, afterLoad.rss, afterSequential.rss, peak, mappingsBefore, mappingsAfter))
        }
    }

    @Test func aRunCanBeCancelledFromAnotherThread() throws {
        let model = try Fixtures.model()
        let plan = try Plan(compiling: """
            generate "Once upon a time" (max_tokens = 400) { save ids = result.ids }
            """, for: model)
        let cancellation = Cancellation()
        let steps = Guarded([String]())
        // Cancelled from another thread once the run reports its third token: mid-run by
        // the run's own progress, not by a timer, however busy the machine.
        let third = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            third.wait()
            cancellation.cancel()
        }
        #expect {
            try model.run(plan, cancellation: cancellation) { message in
                steps.update { $0.append(message) }
                if message.hasPrefix("generate 0: step 3/") { third.signal() }
            }
        } throws: { ($0 as? NSIError)?.kind == .cancelled }
        // It stopped within a few steps of the cancel: a missed one would reach step 400.
        let last = steps.get().last ?? ""
        let step = Int(last.split(separator: " ").last?.split(separator: "/").first ?? "") ?? 0
        #expect(step >= 3 && step < 400, "progress ended at \(last)")
    }
}


/// Samples VmRSS every 2 ms on its own thread until stopped; gives the highest seen.
final class PeakMonitor: @unchecked Sendable {
    private let lock = NSLock()
    private var peak: Double?
    private var running = true
    private let done = DispatchSemaphore(value: 0)

    init() {
        Thread.detachNewThread { [self] in
            while true {
                let now = residentMiB()?.rss
                lock.lock()
                if let now { peak = max(peak ?? 0, now) }
                let go = running
                lock.unlock()
                if !go { break }
                usleep(2000)
            }
            done.signal()
        }
    }

    func stop() -> Double? {
        lock.lock()
        running = false
        lock.unlock()
        done.wait()
        lock.lock()
        defer { lock.unlock() }
        return peak
    }
}
