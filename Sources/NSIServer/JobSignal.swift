import Foundation

/// A counter this server bumps whenever it changes a job (submitted, claimed, progress,
/// finished, cancelled), so event streams look at the store only when something may have
/// changed, instead of querying it every 100 ms each. Changes made by another server of a
/// shared PostgreSQL queue are seen by the streams' slower periodic look.
final class JobSignal: Sendable {
    private let counter = Locked(0)

    var version: Int { counter.withLock { $0 } }

    func bump() { counter.withLock { $0 &+= 1 } }
}
