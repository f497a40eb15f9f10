import Foundation
import NSIModel
import NSIRuntime

/// Where the repository's test data lives, and the models tests run on: one definition
/// for every test target (each adds what only it needs in an extension).
public enum Fixtures {
    /// The repository's root, found from this file's path (Tests/Support/Fixtures.swift).
    public static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    /// Tests/.
    public static let tests = repository.appendingPathComponent("Tests")
    /// Tests/Fixtures: the shared test data (SmolLM2's config and tokenizer, tiny models, references).
    public static let root = tests.appendingPathComponent("Fixtures")

    /// A path below Tests/Fixtures.
    public static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }
    public static func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }
    /// A tiny random model's folder (Tests/Fixtures/tiny/NAME).
    public static func tiny(_ name: String) -> String { path("tiny/\(name)") }

    /// The fetched SmolLM2 folder (Scripts/fetch-model, or `NSI_MODEL_DIR`), or nil when
    /// its weights are not there.
    public static var modelDirectory: String? {
        let dir = ProcessInfo.processInfo.environment["NSI_MODEL_DIR"] ?? repository.appendingPathComponent("models/smollm2-135m").path
        return FileManager.default.fileExists(atPath: dir + "/model.safetensors") ? dir : nil
    }

    /// The built `nsi` executable beside the test bundle (`swift build` builds both), or nil.
    public static let nsiExecutable: String? = {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("nsi").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }()

    /// The text of a sample script (Samples/NAME).
    public static func sample(_ name: String) throws -> String {
        try String(contentsOf: repository.appendingPathComponent("Samples/\(name)"), encoding: .utf8)
    }

    /// The files of a folder with an extension, sorted by name.
    public static func files(in folder: String, ext: String = "nsi") -> [URL] {
        let url = URL(fileURLWithPath: folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { $0.hasSuffix("." + ext) }.sorted().map { url.appendingPathComponent($0) }
    }

    private static let signatures = Guarded([String: ModelSignature]())

    /// A test model's signature, read once: `smollm2-135m` (config and tokenizer from
    /// Tests/Fixtures, no weights) or a tiny model by name (no tokenizer).
    public static func signature(_ model: String) throws -> ModelSignature {
        if let s = signatures.get()[model] { return s }
        let s = try ModelSignature.load(directory: model == "smollm2-135m" ? path("smollm2-135m") : tiny(model))
        signatures.update { $0[model] = s }
        return s
    }

    /// A fresh folder under the system's temporary directory, named for the test.
    public static func temporaryDirectory(_ tag: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nsi-\(tag)-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }
}

/// A value behind a lock, for tests that share state between threads.
public final class Guarded<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: T
    public init(_ value: T) { self.value = value }
    public func get() -> T { lock.withLock { value } }
    public func set(_ v: T) { lock.withLock { value = v } }
    public func update(_ change: (inout T) -> Void) { lock.withLock { change(&value) } }
}

/// A small, fast, deterministic random generator, so that a fuzz input or random tensor
/// can be made again from its seed: the runtime's own SplitMix64 (the sampler's).
public typealias SplitMix64 = SeededGenerator

/// Byte-level mutations for fuzzing: one to three of bit flips, random and interesting
/// bytes, truncation, deleted, duplicated and inserted ranges.
public enum Mutator {
    public static func mutate(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var b = input
        let rounds = Int.random(in: 1...3, using: &rng)
        for _ in 0..<rounds {
            guard !b.isEmpty else { b = [UInt8.random(in: 0...255, using: &rng)]; continue }
            let i = Int.random(in: 0..<b.count, using: &rng)
            switch Int.random(in: 0..<8, using: &rng) {
            case 0, 1:   // flip a bit
                b[i] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
            case 2:      // a random byte
                b[i] = UInt8.random(in: 0...255, using: &rng)
            case 3:      // an interesting byte
                b[i] = [0x00, 0x01, 0x7F, 0x80, 0xFF, 0x02, 0x40][Int.random(in: 0..<7, using: &rng)]
            case 4:      // truncate
                b.removeSubrange(i...)
            case 5:      // delete a range
                let n = Int.random(in: 1...min(16, b.count - i), using: &rng)
                b.removeSubrange(i..<(i + n))
            case 6:      // duplicate a range
                let n = Int.random(in: 1...min(16, b.count - i), using: &rng)
                b.insert(contentsOf: b[i..<(i + n)], at: Int.random(in: 0...b.count, using: &rng))
            default:     // insert random bytes
                let n = Int.random(in: 1...4, using: &rng)
                b.insert(contentsOf: (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }, at: i)
            }
        }
        return b
    }
}

/// Resident and peak resident memory of this process, in MiB (Linux; nil elsewhere).
public func residentMiB() -> (rss: Double, peak: Double)? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    func field(_ name: String) -> Double? {
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return nil }
        return line.split(separator: " ").dropFirst().first.flatMap { Double($0) }.map { $0 / 1024 }
    }
    guard let rss = field("VmRSS"), let peak = field("VmHWM") else { return nil }
    return (rss, peak)
}

/// Golden files: text compared with a file, which `NSI_RECORD_GOLDEN=1` rewrites instead
/// (then review the diff and commit it).
public enum Golden {
    public static var recording: Bool { ProcessInfo.processInfo.environment["NSI_RECORD_GOLDEN"] == "1" }

    /// Compares `actual` with the file at `url` (or writes it when recording): nil when they
    /// agree, else what a failure should say (a missing file, or the first line that differs).
    public static func compare(_ actual: String, with url: URL) -> String? {
        if recording {
            try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            do { try actual.write(to: url, atomically: true, encoding: .utf8) } catch { return "cannot record \(url.path): \(error)" }
            return nil
        }
        guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
            return "missing golden file \(url.lastPathComponent); run with NSI_RECORD_GOLDEN=1"
        }
        return expected == actual ? nil : "\(url.lastPathComponent) differs from the golden file at " + difference(expected, actual)
    }

    /// The first line where two texts differ, with both versions.
    public static func difference(_ expected: String, _ actual: String) -> String {
        let a = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let b = actual.split(separator: "\n", omittingEmptySubsequences: false)
        for i in 0..<max(a.count, b.count) {
            let x = i < a.count ? String(a[i]) : "<end>"
            let y = i < b.count ? String(b[i]) : "<end>"
            if x != y { return "line \(i + 1):\n  golden: \(x)\n  actual: \(y)" }
        }
        return "no line (they differ in line endings)"
    }
}
