import Foundation
import Testing
@testable import NSIServer

/// Leases, on both stores: a running job whose worker stops renewing is taken by another
/// worker once its lease expires (not before, and not while it is renewed); after its
/// attempts it fails as a crash; a cancel asked of an abandoned job ends it cancelled.
/// And the bytes of a key's stored results, counted the same by both.
@Suite(.serialized) struct LeaseTests {
    func exercise(_ store: any JobStore) async throws {
        try await store.migrate()
        let key = try await store.createKey(name: "lease", hash: APIKeys.hash("k"))
        let job = try await store.insert(NewJob(keyID: key.id, model: "m", name: "j.nsi", plan: Data([1, 2, 3]), params: [:]), maxActive: 10)
        func claim(_ worker: String, lease: TimeInterval) async throws -> [JobRecord] {
            try await store.claim(model: "m", worker: worker, limit: 4, perKeyRunning: 4, leaseUntil: Date().addingTimeInterval(lease), maxAttempts: 2)
        }
        // Leases are set in the past or far ahead, so no step depends on how fast this runs.
        #expect(try await claim("a", lease: -1).map(\.id) == [job.id])
        // Renewed before anyone looks, it stays with a though its first lease is past.
        try await store.renewLeases(worker: "a", until: Date().addingTimeInterval(60))
        #expect(try await claim("b", lease: 60).isEmpty, "taken while its renewed lease holds")
        // a's lease runs out: b takes the job, as its second attempt.
        try await store.renewLeases(worker: "a", until: Date().addingTimeInterval(-1))
        #expect(try await claim("b", lease: -1).map(\.id) == [job.id])
        let taken = try #require(try await store.job(id: job.id))
        #expect(taken.state == .running && taken.attempts == 2 && taken.worker == "b", "\(taken.state) \(taken.attempts) \(taken.worker ?? "nil")")
        // b's lease is past too: with its 2 attempts spent the job fails as a crash, and no one takes it.
        #expect(try await claim("c", lease: 60).isEmpty)
        let failed = try #require(try await store.job(id: job.id))
        #expect(failed.state == .failed && failed.errorKind == "crash", "\(failed.state) \(failed.errorKind ?? "nil")")
        #expect(failed.error?.contains("2 times") == true, "\(failed.error ?? "")")

        // A cancel asked of a running job whose worker is gone: cancelled once its lease is past.
        let other = try await store.insert(NewJob(keyID: key.id, model: "m", name: "k.nsi", plan: Data([4]), params: [:]), maxActive: 10)
        #expect(try await claim("d", lease: 60).map(\.id) == [other.id])
        _ = try await store.cancel(id: other.id, keyID: key.id)
        #expect(try await claim("e", lease: 60).isEmpty)
        #expect(try await store.job(id: other.id)?.state == .running, "cancelled before its worker saw the request or its lease ran out")
        try await store.renewLeases(worker: "d", until: Date().addingTimeInterval(-1))
        #expect(try await claim("e", lease: 60).isEmpty)
        #expect(try await store.job(id: other.id)?.state == .cancelled)

        // The bytes a key's stored results hold, for its storage bound.
        #expect(try await store.storedBytes(keyID: key.id) == 0)
        let done = try await store.insert(NewJob(keyID: key.id, model: "m", name: "r.nsi", plan: Data([5]), params: [:]), maxActive: 10)
        #expect(try await claim("f", lease: 60).map(\.id) == [done.id])
        try await store.complete(id: done.id, results: StoredResults(safetensors: Data(count: 1000), sidecar: "{\"é\":1}"), batchSize: 1)
        #expect(try await store.storedBytes(keyID: key.id) == 1000 + 8)   // the sidecar in UTF-8 bytes
    }

    @Test func sqlite() async throws {
        let dir = try Paths.temporaryDirectory("lease")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await exercise(try await JobStores.open(dir + "/queue.sqlite"))
    }

    @Test func postgres() async throws {
        guard let pg = try TemporaryPostgres.start() else { return }
        defer { pg.stop() }
        try await exercise(try await JobStores.open(pg.url))
    }
}
