import Foundation
import Testing
import NSIIR
import NSIRuntime
import NSITensor
import NSIVM
import NSITestSupport

/// Shared prefixes: rows of a trace with the same prompt are computed once up to the
/// layer where each is first written, and from there only from the first written
/// position; reads see every row at every position, filled in from the source.
@Suite(.enabled(if: Fixtures.modelDirectory != nil, "models/smollm2-135m not fetched"))
struct SharingTests {
    static func results(_ script: String, share: Bool, params: [String: RunValue] = [:]) throws -> RunResults {
        try VM(model: try Fixtures.model(), sharePrefixes: share).run(try compile(script), params: params)
    }

    /// Every saved value bit for bit the same with and without sharing; returns the shared run's report.
    static func expectIdentical(_ script: String) throws -> (SharingReport, tokens: Int) {
        let shared = try results(script, share: true), alone = try results(script, share: false)
        #expect(alone.blocks.first?.sharing == nil)
        let report = try #require(shared.blocks.first?.sharing, "no sharing happened")
        #expect(shared.values.map(\.key) == alone.values.map(\.key))
        for (key, value) in alone.values {
            let a = try #require(value.tensor), b = try #require(shared.value(key)?.tensor)
            #expect(a.toFloats().map(\.bitPattern) == b.toFloats().map(\.bitPattern), "\(key) differs with sharing")
        }
        return (report, shared.blocks[0].tokenIds.map(\.count).max() ?? 0)
    }

    /// A sweep small enough (4 rows of 4 tokens) that every product has at most 16 rows,
    /// so each row takes nsi's own row-independent kernel with and without sharing: the
    /// same bits.
    @Test func aSmallSweepIsBitIdenticalWithAndWithoutSharing() throws {
        let script = """
        trace {
            invoke "The Eiffel Tower" {
                for l in [1, 4, 7] { let c[l] = model.layers[l].output[:, 1] }
            }
            for l in [1, 4, 7] {
                invoke "The capital of France" {
                    model.layers[l].output[:, 1] = c[l]
                    save h[l] = model.layers[8].output[0, -1]
                    save lg[l] = model.logits[0, -1]
                    save early[l] = model.logits[0, 0]
                }
            }
        }
        """
        let (report, t) = try Self.expectIdentical(script)
        // Rows: clean, then patched at layers 1, 4, 7 from position 1. The row patched last
        // (row 3) is the source, computed everywhere; rows 1 and 2 from their layer, at
        // positions 1...
        #expect(report.forks.map(\.layer) == [1, 4] && report.forks.map(\.row) == [1, 2])
        #expect(report.forks.map(\.position) == [1, 1] && Set(report.forks.map(\.source)) == [3])
        #expect(report.tokenLayersTotal == 4 * t * 30)
        #expect(report.tokenLayersComputed == 2 * t * 30 + (30 - 1) * (t - 1) + (30 - 4) * (t - 1))
        let shared = try Self.results(script, share: true)
        // Each patch changed what it patched, and nothing before it.
        let first = try #require(shared.value("lg.1")?.tensor).toFloats(), last = try #require(shared.value("lg.7")?.tensor).toFloats()
        #expect(first != last)
        #expect(try #require(shared.value("early.1")?.tensor).toFloats() == (try #require(shared.value("early.7")?.tensor).toFloats()))
    }

    /// The source's own writes bound what others share: a row written from position 3
    /// whose source is written from position 1 computes from position 1. Positions
    /// counted from the end resolve against the prompt.
    @Test func theSourcesWritesBoundTheSharedPositions() throws {
        let (report, t) = try Self.expectIdentical("""
        trace {
            invoke "The capital of France is" {
                model.layers[2].output[:, 3] += 1.5
                save a = model.logits[0]
            }
            invoke "The capital of France is" {
                model.layers[5].mlp.output[:, 1:] *= 0.5
                save b = model.layers[9].output[0]
            }
            invoke "The capital of France is" {
                model.layers[1].attn.output[:, -1] = 0
                save c = model.logits[0]
            }
        }
        """)
        // Row 1 (written last, at layer 5) is the source, written from position 1.
        #expect(report.forks.map(\.row) == [0, 2] && Set(report.forks.map(\.source)) == [1])
        #expect(report.forks.map(\.layer) == [2, 1])
        #expect(report.forks.map(\.position) == [1, 1])
        #expect(t >= 4)
    }

    /// Rows only read are never computed: they are the source's.
    @Test func rowsOnlyReadAreTheSources() throws {
        let (report, t) = try Self.expectIdentical("""
        trace {
            invoke "The capital of France" { save a = model.layers[2].output[0, -1] }
            invoke "The capital of France" { save b = model.logits[0] }
            invoke "The capital of France" {
                model.layers[4].output[:, 2] = 0
                save c = model.logits[0]
            }
        }
        """)
        #expect(report.forks.map(\.row) == [1, 2] && Set(report.forks.map(\.source)) == [0])
        #expect(report.forks[0].layer == nil && report.forks[1].layer == 4 && report.forks[1].position == 2)
        #expect(report.tokenLayersComputed == t * 30 + (30 - 4) * (t - 2))
    }

    /// The brief's patching sweep (31 rows of 14 tokens): OpenBLAS's sgemm rounds
    /// differently for another number of rows (measured: products of 45 and 465 rows
    /// differ in the last bit for 4% of their outputs), so the two runs agree within a
    /// tolerance: |a - b| <= 1e-4 * (1 + |b|).
    @Test func thePatchingSampleAgreesWithAndWithoutSharing() throws {
        let script = try String(contentsOfFile: Fixtures.repository.appendingPathComponent("Samples/patching.nsi").path, encoding: .utf8)
        let shared = try Self.results(script, share: true), alone = try Self.results(script, share: false)
        let report = try #require(shared.blocks.first?.sharing)
        // 30 corrupt rows, patched at layers 0..29 at position 9: the one patched last is
        // the source, the other 29 are computed from their layer at positions 9...
        #expect(report.forks.count == 29 && report.forks.allSatisfy { $0.position == 9 })
        #expect(report.tokenLayersComputed < report.tokenLayersTotal * 3 / 10)
        var worst: Float = 0
        for (key, value) in alone.values {
            let a = try #require(value.tensor).toFloats(), b = try #require(shared.value(key)?.tensor).toFloats()
            worst = max(worst, maxDifference(b, a, .onePlusReference))
        }
        print("patching sample: \(report.tokenLayersComputed) of \(report.tokenLayersTotal) token-layers with sharing; max relative difference \(worst) (tolerance 1e-4)")
        #expect(worst <= 1e-4)
    }

    /// A write of the whole point changes every position: the row is computed at every
    /// position from its layer. A hook on the attention
    /// cache turns sharing off (the cache views are read in place).
    @Test func unknownPositionsAndCacheHooks() throws {
        let (report, _) = try Self.expectIdentical("""
        trace {
            invoke "The capital of France" {
                model.layers[3].output *= 0.5
                save a = model.logits[0]
            }
            invoke "The capital of France" {
                model.layers[6].output[:, 1] = 0
                save b = model.logits[0]
            }
        }
        """)
        #expect(report.forks.count == 1 && report.forks[0].layer == 3 && report.forks[0].position == 0)
        let kv = try Self.results("""
        trace {
            invoke "The capital of France" { save k = model.layers[3].attn.k }
            invoke "The capital of France" { model.layers[5].output[:, 1] = 0 }
        }
        """, share: true)
        #expect(kv.blocks.first?.sharing == nil)
    }

    /// The positions of the logits a plan uses: one per read used at one known position,
    /// any (nil) for a read used whole, none for an invoke that does not read them.
    @Test func theLogitPositionsAPlanUses() throws {
        let program = try compile("""
        trace {
            invoke "The capital of France" {
                let lg = model.logits[0, -1]
                save a = lg[5] - lg[7]
            }
            invoke "The capital of France" { save b = model.logits }
            invoke "The capital of France" { save c = model.layers[3].output }
            invoke "The capital of France" {
                save d = model.logits[0, 1]
                save e = model.logits[0, -1].argmax()
            }
        }
        """)
        let positions = PrefixSharing.logitPositions(program, block: 0, points: try Fixtures.model().transformer.points, tokens: 4) {
            PrefixSharing.constantInt(program, $0, defaults: false)
        }
        #expect(positions.count == 4)
        #expect(positions[0] == [3] && positions[1] == nil && positions[2] == [] && positions[3].map(Set.init) == [1, 3])
    }
}
