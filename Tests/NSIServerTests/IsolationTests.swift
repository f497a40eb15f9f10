import Foundation
import Testing
@testable import NSIServer

/// Co-tenancy: one user's plan cannot read or change another's rows in a shared batch.
/// The jobs go through the scheduler's own path: claimed together, grouped, run as one batch.
@Suite(.serialized, .enabled(if: Paths.smollm != nil, "models/smollm2-135m not fetched"))
struct IsolationTests {
    static let writer = """
    trace "The capital of France" {
        model.layers[2].output = 1000000
        save mine = model.layers[3].output[0, -1]
    }
    """
    static let reader = """
    trace "The capital of France" {
        save before = model.layers[2].output[0, -1]
        save after = model.layers[3].output[0, -1]
    }
    """

    @Test func aBatchedWriterDoesNotReachItsNeighbour() async throws {
        let dir = try Paths.temporaryDirectory("isolation")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var config = ServerConfiguration()
        config.models = [("m", Paths.smollm!)]
        config.store = dir + "/queue.sqlite"
        let server = try await ModelServer(config: config)
        let model = server.models["m"]!
        let worker = ModelWorker(model: model, store: server.store, config: config, metrics: server.metrics, logger: server.logger)
        let alice = try await server.store.createKey(name: "alice", hash: APIKeys.hash("a"))
        let mallory = try await server.store.createKey(name: "mallory", hash: APIKeys.hash("m"))
        func queue(_ script: String, _ key: KeyRecord) async throws -> JobRecord {
            let plan = try PlanRunner.compile(source: script, name: "s.nsi", params: [:], model: model)
            return try await server.store.insert(NewJob(keyID: key.id, model: "m", name: "s.nsi", plan: plan, params: [:]), maxActive: 10)
        }
        func claimAndRun() async throws -> [JobRecord] {
            let claimed = try await server.store.claim(model: "m", worker: config.workerID, limit: 16, perKeyRunning: 8, leaseUntil: Date().addingTimeInterval(60))
            try await worker.runClaimed(claimed)
            return claimed
        }

        let solo = try await queue(Self.reader, alice)
        #expect(try await claimAndRun().count == 1)
        let soloResults = try await server.store.results(id: solo.id)!.safetensors

        let attack = try await queue(Self.writer, mallory)
        let shared = try await queue(Self.reader, alice)
        #expect(try await claimAndRun().count == 2)
        let a = try await server.store.job(id: shared.id)!, w = try await server.store.job(id: attack.id)!
        #expect(a.state == .completed && w.state == .completed)
        #expect(a.batchSize == 2 && w.batchSize == 2, "the two jobs ran in one batch")
        let sharedResults = try await server.store.results(id: shared.id)!.safetensors
        #expect(sharedResults == soloResults, "the neighbour's write reached alice's rows")
        // The writer's own rows did change.
        #expect(try await server.store.results(id: attack.id)!.safetensors != soloResults)
    }
}
