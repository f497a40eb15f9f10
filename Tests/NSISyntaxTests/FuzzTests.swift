import Foundation
import NSISource
import NSISyntax
import Testing
import NSITestSupport

/// Parses at least 100,000 random and mutated scripts (deterministically, from a fixed
/// seed) and checks that nothing crashes, nothing is slow, every range is inside the
/// file, and every script that parses cleanly formats idempotently to the same tree.
///
/// Environment: NSI_FUZZ_ITERATIONS (default 100000) and NSI_FUZZ_SEED to run longer or
/// differently; NSI_FUZZ_LOG=path writes each input there before parsing it, so that
/// after a crash the file holds the culprit. See docs/testing.md.
@Suite struct FuzzTests {
    static let environment = ProcessInfo.processInfo.environment
    static let iterations = environment["NSI_FUZZ_ITERATIONS"].flatMap(Int.init) ?? 100_000
    static let seed = environment["NSI_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x6E73_6966_757A_7A31

    static let inputs = FuzzInputs()
    /// The iterations are split into shards that run in parallel; shard k takes the
    /// iterations i with i % shards == k.
    static let shards = 4

    @Test(arguments: 0..<shards)
    func parserSurvivesRandomAndMutatedScripts(shard: Int) throws {
        let inputs = Self.inputs
        let logPath = Self.environment["NSI_FUZZ_LOG"].map { "\($0).\(shard)" }
        let clock = ContinuousClock()
        var slowest = (duration: Duration.zero, iteration: 0)
        var clean = 0
        var failures: [String] = []
        let started = clock.now
        for iteration in stride(from: shard, to: Self.iterations, by: Self.shards) {
            var rng = SplitMix64(seed: Self.seed &+ UInt64(iteration) &* 0x2545_F491_4F6C_DD1D)
            let bytes = inputs.make(&rng, iteration: iteration)
            if let logPath { try Data(bytes).write(to: URL(fileURLWithPath: logPath)) }
            let file = SourceFile(path: "fuzz-\(iteration).nsi", bytes: bytes)
            let start = clock.now
            let result = Parser.parse(file)
            let elapsed = clock.now - start
            if elapsed > slowest.duration { slowest = (elapsed, iteration) }
            let problems = check(result, render: iteration % 64 == 0)
            if !result.hasErrors {
                clean += 1
                failures += RoundTrip(file).problems.map { "\($0)" }.map { "iteration \(iteration): \($0)" }
            }
            failures += problems.map { "iteration \(iteration): \($0)" }
            if failures.count > 20 { break }
        }
        let total = clock.now - started
        print("fuzz shard \(shard): \(Self.iterations / Self.shards) inputs (seed \(Self.seed)), \(clean) parsed cleanly, in \(total);"
              + " slowest \(slowest.duration) at iteration \(slowest.iteration)")
        #expect(failures.isEmpty, "\(failures.prefix(20).joined(separator: "\n"))")
    }

    /// Invariants of any parse: ranges inside the file, codes from the catalogue, a
    /// bounded number of diagnostics; rendering works.
    private func check(_ result: ParseResult, render: Bool) -> [String] {
        var problems: [String] = []
        let size = result.file.bytes.count
        func inside(_ range: SourceRange) -> Bool { range.start >= 0 && range.end <= size }
        for diagnostic in result.diagnostics {
            let ranges = [diagnostic.primary.range] + diagnostic.secondary.map(\.range)
            if !ranges.allSatisfy(inside) { problems.append("diagnostic \(diagnostic.code) out of the file") }
            if DiagnosticCatalogue.entry(for: diagnostic.code) == nil { problems.append("unknown code \(diagnostic.code)") }
        }
        if result.diagnostics.count > Parser.maxDiagnostics + 1 { problems.append("too many diagnostics") }
        var statements = result.script.statements
        var expressions: [Expr] = []
        while let statement = statements.popLast() {
            let blocks = statement.blocks
            let ranges = [statement.range] + blocks.map(\.range)
            if !ranges.allSatisfy(inside) { problems.append("statement at \(statement.range) out of the file") }
            expressions += statement.expressions
            statements += blocks.flatMap(\.statements)
        }
        while let expr = expressions.popLast() {
            if !inside(expr.range) { problems.append("expression at \(expr.range) out of the file") }
            expressions += expr.children
        }
        if render {
            _ = TextRenderer(useColor: true).render(result.diagnostics, in: result.file)
            _ = JSONRenderer().render(result.diagnostics, in: result.file)
        }
        return problems
    }
}
