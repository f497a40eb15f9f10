import NSIVM

/// Stops a run from another thread: pass it to `Model.run`, call `cancel()` from
/// anywhere; the run stops at its next instruction or forward-pass step and throws
/// `NSIError` of kind `.cancelled`. One token may serve several runs; it cannot be reset.
public final class Cancellation: Sendable {
    let token = RunCancellation()

    public init() {}

    public func cancel() { token.cancel() }
    public var isCancelled: Bool { token.isCancelled }
}
