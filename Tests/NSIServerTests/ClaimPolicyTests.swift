import Foundation
import Testing
@testable import NSIServer

/// The claim policy both stores use: FIFO by submission, a per-key cap on running jobs
/// that counts the jobs taken in the same claim, and the batch limit.
@Suite struct ClaimPolicyTests {
    func job(_ seq: Int64, key: Int64, attempts: Int = 0) -> JobRecord {
        JobRecord(id: "j\(seq)", seq: seq, keyID: key, model: "m", name: "n", plan: Data(), params: [:], state: .queued,
                  error: nil, errorKind: nil, progress: nil, cancelRequested: false, createdAt: Date(), startedAt: nil,
                  finishedAt: nil, batchSize: nil, hasResults: false, resultsExpired: false, worker: nil, attempts: attempts)
    }

    @Test func fifoWithAPerKeyCap() {
        let queued = [job(5, key: 1), job(1, key: 1), job(2, key: 1), job(3, key: 2), job(4, key: 3)]
        let chosen = ClaimPolicy.choose(queued, running: [3: 1], limit: 8, perKeyRunning: 2)
        // Key 1 gets its two oldest; key 2 its one; key 3 already runs one, which is under the cap of 2.
        #expect(chosen.map(\.seq) == [1, 2, 3, 4])
        #expect(ClaimPolicy.choose(queued, running: [:], limit: 2, perKeyRunning: 8).map(\.seq) == [1, 2])
        #expect(ClaimPolicy.choose(queued, running: [1: 2, 2: 2, 3: 2], limit: 8, perKeyRunning: 2).isEmpty)
    }

    /// A job its server died running is taken alone, first or by a claim of its own.
    @Test func aJobTakenBeforeIsTakenAlone() {
        let queued = [job(1, key: 1), job(2, key: 2, attempts: 1), job(3, key: 3)]
        #expect(ClaimPolicy.choose(queued, running: [:], limit: 8, perKeyRunning: 8).map(\.seq) == [1, 3])
        #expect(ClaimPolicy.choose(Array(queued.dropFirst()), running: [:], limit: 8, perKeyRunning: 8).map(\.seq) == [2])
    }
}
