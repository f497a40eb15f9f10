import Foundation
import NSIVM
import Testing
import NSITensor
import NSITestSupport
@testable import NSIServer

/// Co-tenancy: one user's plan cannot read or change another's rows in a shared batch.
/// The jobs go through the scheduler's own path: claimed together, grouped, run as one batch.
///
/// What is guaranteed, and so what is asserted:
/// - Beside any neighbour of the same batch shape, alice's results are the same bytes: a
///   neighbour that writes 1e6, +-Inf or NaN into its rows changes nothing in hers. Each
///   row of a product is computed from that row alone, so this holds on every kernel.
/// - Against her solo run, a batch of two rows may take other GEMM blocking than a batch
///   of one, so the last bits can differ by kernel (seen: 6.6e-6 on OpenBLAS's generic
///   x86 kernel, 0 on its Zen kernel). That comparison has a tolerance.
@Suite(.serialized, .enabled(if: Paths.smollm != nil, "models/smollm2-135m not fetched"))
struct IsolationTests {
    static let reader = """
    trace "The capital of France" {
        save before = model.layers[2].output[0, -1]
        save after = model.layers[3].output[0, -1]
        save logits = model.logits[0, -1]
    }
    """
    /// Neighbours with the reader's prompt (so the batch shape is the same for all).
    static let neighbours: [(name: String, script: String)] = [
        ("harmless", """
        trace "The capital of France" {
            save mine = model.layers[3].output[0, -1]
        }
        """),
        ("1e6", """
        trace "The capital of France" {
            model.layers[2].output = 1000000
            save mine = model.layers[3].output[0, -1]
        }
        """),
        ("inf", """
        trace "The capital of France" {
            model.layers[2].output = model.layers[2].output * 1e30 * 1e30
            save mine = model.layers[3].output[0, -1]
        }
        """),
        ("nan", """
        trace "The capital of France" {
            model.layers[2].output = model.layers[2].output * 1e30 * 1e30 * 0
            save mine = model.layers[3].output[0, -1]
        }
        """),
    ]
    /// |shared - solo| <= tolerance * (1 + |solo|): a few ulps of f32 accumulated over 30
    /// layers of differently blocked sums, with a wide margin.
    static let soloTolerance: Float = 1e-4

    /// Every tensor of a results file as floats, by name.
    static func values(_ data: Data) throws -> [String: [Float]] {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("nsi-iso-\(UUID().uuidString).safetensors").path
        try data.write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = try SafetensorsFile(path: path)
        var out: [String: [Float]] = [:]
        for name in file.names { out[name] = try file.tensor(name).toFloats() }
        return out
    }

    @Test func aBatchedNeighbourDoesNotReachItsRows() async throws {
        let dir = try Paths.temporaryDirectory("isolation")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var config = ServerConfiguration()
        config.models = [("m", Paths.smollm!)]
        config.store = dir + "/queue.sqlite"
        let server = try await ModelServer(config: config)
        let model = server.models["m"]!
        let worker = ModelWorker(model: model, directory: Paths.smollm!, store: server.store, config: config, metrics: server.metrics, logger: server.logger)
        let alice = try await server.store.createKey(name: "alice", hash: APIKeys.hash("a"))
        let mallory = try await server.store.createKey(name: "mallory", hash: APIKeys.hash("m"))
        func queue(_ script: String, _ key: KeyRecord) async throws -> JobRecord {
            let plan = try PlanRunner.compile(source: script, name: "s.nsi", params: [:], model: model, limits: VMLimits())
            return try await server.store.insert(NewJob(keyID: key.id, model: "m", name: "s.nsi", plan: plan, params: [:]), maxActive: 10)
        }
        func claimAndRun() async throws -> [JobRecord] {
            let claimed = try await server.store.claim(model: "m", worker: config.workerID, limit: 16, perKeyRunning: 8, leaseUntil: Date().addingTimeInterval(60), maxAttempts: 3)
            try await worker.runClaimed(claimed)
            return claimed
        }

        let solo = try await queue(Self.reader, alice)
        #expect(try await claimAndRun().count == 1)
        let soloValues = try Self.values(try await server.store.results(id: solo.id)!.safetensors)
        #expect(soloValues.keys.sorted() == ["after", "before", "logits"])

        var besideHarmless: Data?
        for (name, script) in Self.neighbours {
            let neighbour = try await queue(script, mallory)
            let shared = try await queue(Self.reader, alice)
            #expect(try await claimAndRun().count == 2)
            let a = try await server.store.job(id: shared.id)!, n = try await server.store.job(id: neighbour.id)!
            try #require(a.state == .completed && n.state == .completed, "\(name): \(a.state) / \(n.state)")
            #expect(a.batchSize == 2 && n.batchSize == 2, "\(name): the two jobs ran in one batch")
            let bytes = try await server.store.results(id: shared.id)!.safetensors

            // Beside any neighbour of the same batch shape: the same bytes.
            if let reference = besideHarmless {
                #expect(bytes == reference, "beside the \(name) neighbour alice's results differ from those beside a harmless one")
            } else {
                besideHarmless = bytes
            }
            // Against her solo run: within the tolerance, all finite.
            let values = try Self.values(bytes)
            var worst: Float = 0
            for (key, expected) in soloValues {
                let got = try #require(values[key], "\(name): \(key) missing")
                #expect(got.allSatisfy { $0.isFinite }, "\(name): \(key) has a non-finite value")
                worst = max(worst, maxDifference(got, expected, .onePlusReference))
            }
            print("isolation beside the \(name) neighbour: max |shared - solo| / (1 + |solo|) = \(worst) (tolerance \(Self.soloTolerance))")
            #expect(worst <= Self.soloTolerance, "\(name): alice's rows moved by \(worst)")

            // The neighbour's own rows changed when it wrote, and only then (a large change,
            // or a non-finite value; within the tolerance for the harmless one).
            let mine = try #require(try Self.values(try await server.store.results(id: neighbour.id)!.safetensors)["mine"])
            let moved = maxDifference(mine, soloValues["after"]!, .onePlusReference)
            if name == "harmless" {
                #expect(moved <= Self.soloTolerance, "the harmless neighbour's own rows moved by \(moved)")
            } else {
                #expect(moved > 1, "\(name): the neighbour's write did not take effect on its own rows (moved \(moved))")
            }
        }
    }
}
