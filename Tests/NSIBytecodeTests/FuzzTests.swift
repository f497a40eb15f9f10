import Foundation
import Testing
import NSIIR
@testable import NSIBytecode
import NSITestSupport

/// Corrupted plans: bit flips, byte changes, truncations, duplicated and deleted ranges,
/// both in the file as stored (the container and compressed body) and in the body before
/// compression, re-sealed with a valid header and checksum so the mutation reaches the
/// section parser and the verifier rather than stopping at zstd. Every plan must be
/// refused with a `BytecodeError` or accepted, never crash or hang; an accepted plan must
/// re-encode to a plan that decodes to the same bytes again.
/// `NSI_FUZZ_ITERATIONS` sets the count (default 100,000) and `NSI_FUZZ_SEED` the seed.
@Suite struct PlanFuzzTests {
    struct Seed {
        let name: String
        let file: [UInt8]
        let body: [UInt8]
        let hash: String
    }

    static func seeds() throws -> [Seed] {
        try (Fixtures.samples + [Fixtures.allOps]).map { url in
            let data = try Bytecode.encode(try Fixtures.program(url))
            let (header, body) = try Container.open(data, limits: .standard)
            return Seed(name: url.lastPathComponent, file: [UInt8](data), body: body, hash: header.signatureHash)
        }
    }

    static func mutate(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] { Mutator.mutate(input, &rng) }

    static func attempt(_ data: Data, _ target: PlanTarget) -> Result<Program, BytecodeError> {
        do {
            return .success(try Bytecode.decode(data, for: target))
        } catch {
            return .failure(error)
        }
    }

    /// What one shard saw.
    struct Tally {
        var refusals: [String: Int] = [:]
        var accepted = [0, 0]
        var slowest = 0.0
        var unstable: [String] = []
    }

    /// Runs `count` mutations from iteration `first` on, with its own generator.
    static func run(shard: Int, first: Int, count: Int, seed: UInt64, seeds: [Seed], target: PlanTarget) -> Tally {
        var rng = SplitMix64(seed: seed &+ UInt64(shard) &* 0x9E37_79B9)
        var t = Tally()
        for i in first..<(first + count) {
            let s = seeds[i % seeds.count]
            let inBody = i % 2 == 1
            let data: Data
            if inBody {
                guard let sealed = try? Container.seal(body: mutate(s.body, &rng), signatureHash: s.hash, level: 1) else {
                    t.unstable.append("iteration \(i): cannot seal"); continue
                }
                data = sealed
            } else {
                data = Data(mutate(s.file, &rng))
            }
            let t0 = Date()
            let outcome = attempt(data, target)
            t.slowest = max(t.slowest, Date().timeIntervalSince(t0))
            switch outcome {
            case .failure(let e):
                t.refusals[(inBody ? "body: " : "file: ") + e.code, default: 0] += 1
            case .success(let program):
                t.accepted[inBody ? 1 : 0] += 1
                // An accepted plan re-encodes, verifies again and re-encodes to the same
                // body (body to body: zstd is the container's business).
                do {
                    let again = try Body.write(try Lowering.lower(program))
                    let plan = try Body.read(again, signatureHash: program.signatureHash, limits: .standard)
                    try Verifier(plan: plan, target: target, limits: .standard).verify()
                    if try Body.write(try Lowering.lower(Raising.raise(plan))) != again { t.unstable.append("iteration \(i) (\(s.name))") }
                } catch {
                    t.unstable.append("iteration \(i) (\(s.name)): \(error)")
                }
            }
        }
        return t
    }

    @Test func mutatedPlansAreRefusedOrSound() throws {
        let env = ProcessInfo.processInfo.environment
        let iterations = env["NSI_FUZZ_ITERATIONS"].flatMap { Int($0) } ?? 100_000
        let seedValue = env["NSI_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x6E73_6970
        let seeds = try Self.seeds()
        let target = try Fixtures.target("smollm2-135m")
        let shards = 4
        let lock = NSLock()
        nonisolated(unsafe) var tallies: [Tally] = []
        let start = Date()
        DispatchQueue.concurrentPerform(iterations: shards) { shard in
            let per = (iterations + shards - 1) / shards
            let first = shard * per
            let tally = Self.run(shard: shard, first: first, count: max(0, min(per, iterations - first)), seed: seedValue, seeds: seeds, target: target)
            lock.lock()
            tallies.append(tally)
            lock.unlock()
        }
        var refusals: [String: Int] = [:]
        var accepted = [0, 0]
        var slowest = 0.0
        for t in tallies {
            refusals.merge(t.refusals, uniquingKeysWith: +)
            accepted = [accepted[0] + t.accepted[0], accepted[1] + t.accepted[1]]
            slowest = max(slowest, t.slowest)
            for u in t.unstable { Issue.record("accepted plan does not re-encode stably: \(u)") }
        }
        let elapsed = Date().timeIntervalSince(start)
        var report = "fuzz: \(iterations) mutated plans from \(seeds.count) seeds in \(String(format: "%.1f", elapsed)) s "
            + "(slowest decode \(String(format: "%.1f", slowest * 1000)) ms); accepted \(accepted[0]) file and \(accepted[1]) body mutations\n"
        for (code, n) in refusals.sorted(by: { $0.value > $1.value }) { report += "  \(n)\t\(code)\n" }
        print(report, terminator: "")
        #expect(refusals.values.reduce(0, +) + accepted.reduce(0, +) == iterations)
        // The body mutations reach the verifier's semantic checks, not only the parser.
        let semantic = ["forwardReference", "poolReference", "operandType", "resultType", "causality", "pointOutOfRange",
                        "axisOutOfRange", "badSteps", "misplaced", "blockOutOfRange"]
        if iterations >= 10_000 {
            for code in semantic { #expect(refusals["body: " + code, default: 0] > 0, "no body mutation was refused with \(code)") }
        }
    }
}
