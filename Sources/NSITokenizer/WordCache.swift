import Foundation

/// Remembers the ids of words already run through BPE. Text repeats words constantly,
/// and merging is the expensive step. Shared by concurrent callers, so a lock guards
/// it; when full it starts over rather than tracking recency.
final class WordCache: @unchecked Sendable {
    /// A word's bytes, hashed in one call instead of byte by byte.
    struct Key: Hashable {
        let bytes: [UInt8]

        func hash(into hasher: inout Hasher) {
            bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
        }
    }

    private let lock = NSLock()
    private var entries: [Key: [Int]] = [:]
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    func lookup(_ key: Key) -> [Int]? {
        lock.lock()
        defer { lock.unlock() }
        return entries[key]
    }

    func store(_ key: Key, _ ids: [Int]) {
        lock.lock()
        defer { lock.unlock() }
        if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
        entries[key] = ids
    }
}
