import Foundation

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
