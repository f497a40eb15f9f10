import Foundation
import NSICheck
import NSIIR
import NSIModel
import NSISource
import NSISyntax
@testable import NSIBytecode

enum Fixtures {
    static let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    static let repository = tests.deletingLastPathComponent()
    static func shared(_ relative: String) -> String { tests.appendingPathComponent("Fixtures/\(relative)").path }
    static func own(_ relative: String) -> String { tests.appendingPathComponent("NSIBytecodeTests/Fixtures/\(relative)").path }

    nonisolated(unsafe) private static var signatures: [String: ModelSignature] = [:]
    nonisolated(unsafe) private static var programs: [String: Program] = [:]
    private static let lock = NSLock()

    /// SmolLM2 (config and tokenizer) or a tiny model (config only), read once.
    static func signature(_ model: String) throws -> ModelSignature {
        lock.lock()
        defer { lock.unlock() }
        if let s = signatures[model] { return s }
        let s = try ModelSignature.load(directory: model == "smollm2-135m" ? shared("smollm2-135m") : shared("tiny/\(model)"))
        signatures[model] = s
        return s
    }

    static func files(in folder: String) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { $0.hasSuffix(".nsi") }.sorted().map { URL(fileURLWithPath: folder).appendingPathComponent($0) }
    }

    static let samples = files(in: repository.appendingPathComponent("Samples").path)
    static let tinyScripts = files(in: repository.appendingPathComponent("Tests/NSICheckTests/Fixtures/wellformed").path)
    static let allOps = URL(fileURLWithPath: own("all_ops.nsi"))
    /// Every script that must compile: the samples, the tiny-model scripts, every opcode.
    static let scripts = samples + tinyScripts + [allOps]

    /// The model a script names in a `# model:` header (SmolLM2 by default).
    static func model(of url: URL) -> String {
        let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") where line.hasPrefix("# model:") {
            return line.dropFirst(8).trimmingCharacters(in: .whitespaces)
        }
        return "smollm2-135m"
    }

    /// Parses and checks a script against its model; the program, or a thrown error.
    static func program(_ url: URL) throws -> Program {
        lock.lock()
        if let p = programs[url.path] { lock.unlock(); return p }
        lock.unlock()
        let file = SourceFile(path: url.lastPathComponent, text: try String(contentsOf: url, encoding: .utf8))
        let parsed = Parser.parse(file)
        let result = Checker.check(parsed, signature: try signature(model(of: url)), baseDirectory: url.deletingLastPathComponent().path)
        guard let program = result.program else {
            throw FixtureError("\(url.lastPathComponent) does not check: \(result.diagnostics.map(\.message))")
        }
        lock.lock()
        programs[url.path] = program
        lock.unlock()
        return program
    }

    static func target(_ model: String) throws -> PlanTarget { PlanTarget(try signature(model)) }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

extension PlanTarget {
    /// As `nsi` builds it (NSICLI has the same few lines; this module does not depend on it).
    init(_ s: ModelSignature) {
        self.init(signatureHash: s.hash, pointRanks: s.points.points.map { $0.shape.count }, pointNames: s.points.points.map(\.name),
                  moduleNames: s.points.modules.map(\.canonicalName), callables: Set(s.callables.map(\.name)))
    }
}

/// A small deterministic generator (SplitMix64), so fuzz runs repeat exactly.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
