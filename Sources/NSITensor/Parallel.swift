import Dispatch
import Foundation

/// How many threads tensor loops and OpenBLAS use. `NSI_THREADS` overrides the core count.
public enum Threads {
    public static let count: Int = {
        if let s = ProcessInfo.processInfo.environment["NSI_THREADS"], let n = Int(s), n > 0 { return n }
        return max(ProcessInfo.processInfo.activeProcessorCount, 1)
    }()

}

/// Runs `body` over `0..<n` split into contiguous chunks on up to `Threads.count`
/// threads; stays on the calling thread when the work is small (`n * cost` under `grain`).
@inline(__always)
public func parallelFor(_ n: Int, cost: Int = 1, grain: Int = 32_768, _ body: @Sendable (Range<Int>) -> Void) {
    let threads = Threads.count
    if threads <= 1 || n <= 1 || n * cost < grain {
        body(0..<n)
        return
    }
    let chunks = min(threads, n)
    DispatchQueue.concurrentPerform(iterations: chunks) { c in
        let lo = n * c / chunks, hi = n * (c + 1) / chunks
        if lo < hi { body(lo..<hi) }
    }
}
