import Foundation
import Testing
import NSITensor
@testable import NSICLI
import NSITestSupport

/// The built `nsi` executable, run as a user runs it: arguments, environment, exit status,
/// standard output and standard error.
enum NSITool {
    /// `nsi` beside the test bundle (`swift build --build-tests` builds it), or nil.
    static let path = Fixtures.nsiExecutable

    struct Output {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// Runs `nsi ARGS` with `environment` added to this process's, its output in files (no
    /// pipe to fill up).
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Output {
        let dir = try Fixtures.temporaryDirectory("cli")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/stdout", err = dir + "/stderr"
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        _ = FileManager.default.createFile(atPath: err, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try #require(path, "the nsi executable is not built"))
        p.arguments = arguments
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        p.currentDirectoryURL = Fixtures.repository
        let o = try #require(FileHandle(forWritingAtPath: out)), e = try #require(FileHandle(forWritingAtPath: err))
        p.standardOutput = o
        p.standardError = e
        p.standardInput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        try o.close()
        try e.close()
        return Output(status: p.terminationStatus, stdout: try String(contentsOfFile: out, encoding: .utf8),
                      stderr: try String(contentsOfFile: err, encoding: .utf8))
    }
}

/// One prompt of Tests/Fixtures/smollm2-135m/logits.json (transformers, f32).
struct LogitsReference: Decodable {
    let prompt: String
    let ids: [Int]
    let last_top20_ids: [Int]
    let last_top20_logits: [Float]
    let greedy16_ids: [Int]
    let greedy16_text: String

    static func cases() throws -> [LogitsReference] {
        struct File: Decodable { let cases: [LogitsReference] }
        let data = try Data(contentsOf: Fixtures.url("smollm2-135m/logits.json"))
        return try JSONDecoder().decode(File.self, from: data).cases
    }
}

/// The header of a safetensors file, read here with Foundation's JSON parser (not nsi's
/// reader): the oracle for `nsi inspect`.
struct RawSafetensorsHeader {
    struct Entry: Equatable { let dtype: String; let shape: [Int]; let bytes: Int }
    var entries: [String: Entry] = [:]
    var metadata: [String: String] = [:]

    init(path: String) throws {
        let handle = try #require(FileHandle(forReadingAtPath: path))
        defer { try? handle.close() }
        let prefix = try #require(try handle.read(upToCount: 8))
        let n = prefix.enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let json = try #require(try handle.read(upToCount: n))
        struct Field: Decodable { let dtype: String?; let shape: [Int]?; let data_offsets: [Int]? }
        struct Metadata: Decodable { let __metadata__: [String: String]? }
        for (name, f) in try JSONDecoder().decode([String: Field].self, from: json) where name != "__metadata__" {
            let offsets = try #require(f.data_offsets)
            entries[name] = Entry(dtype: try #require(f.dtype), shape: try #require(f.shape), bytes: offsets[1] - offsets[0])
        }
        metadata = try JSONDecoder().decode(Metadata.self, from: json).__metadata__ ?? [:]
    }
}

/// `nsi inspect`: its table and JSON list every tensor of the file or folder with the
/// header's name, dtype and shape, sorted by name, and a total; errors name the path.
@Suite struct InspectCommandTests {
    static let tinyModels = ["tiny-llama3", "tiny-llama3-bf16", "tiny-gpt2", "tiny-gemma3"]

    /// Rows of the table after its metadata and header: name, dtype, shape text.
    static func rows(_ table: String) throws -> (metadata: [String], rows: [(String, String, String)], total: String) {
        var lines = table.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.last == "", "the table ends with a newline")
        lines.removeLast()
        let metadata = lines.prefix { $0.hasPrefix("# ") }
        lines.removeFirst(metadata.count)
        let header = lines.removeFirst().split(separator: " ")
        #expect(header == ["name", "dtype", "shape"])
        let total = lines.removeLast()
        let rows = try lines.map { line -> (String, String, String) in
            let f = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
            try #require(f.count == 3, "\(line)")
            return (String(f[0]), String(f[1]), f[2].trimmingCharacters(in: .whitespaces))
        }
        return (Array(metadata), rows, total)
    }

    @Test(arguments: tinyModels)
    func tableAndJSONMatchTheHeader(model: String) throws {
        let file = Fixtures.tiny(model) + "/model.safetensors"
        let header = try RawSafetensorsHeader(path: file)
        try #require(!header.entries.isEmpty)

        // The table, from the file and from its folder: the same.
        let table = try InspectCommand.render(path: file, json: false)
        #expect(try InspectCommand.render(path: Fixtures.tiny(model), json: false) == table)
        let (metadata, rows, total) = try Self.rows(table)
        #expect(metadata == header.metadata.sorted { $0.key < $1.key }.map { "# \($0.key): \($0.value)" })
        #expect(rows.map(\.0) == header.entries.keys.sorted(), "every tensor once, sorted by name")
        for (name, dtype, shape) in rows {
            let e = try #require(header.entries[name])
            #expect(dtype == e.dtype && shape == "[" + e.shape.map(String.init).joined(separator: ", ") + "]", "\(name): \(dtype) \(shape)")
        }
        let elements = header.entries.values.map { $0.shape.reduce(1, *) }.reduce(0, +)
        let bytes = header.entries.values.map(\.bytes).reduce(0, +)
        #expect(total.hasPrefix("\(header.entries.count) tensors, \(elements) elements, "), "\(total)")
        let size = total.split(separator: ", ").last.map(String.init) ?? ""
        let kib = Double(size.replacingOccurrences(of: " KiB", with: "")) ?? -1
        #expect(size.hasSuffix(" KiB") && abs(kib * 1024 - Double(bytes)) <= 0.05 * 1024, "\(size) for \(bytes) bytes")

        // --json: the same facts, with each tensor's byte count.
        let json = try InspectCommand.render(path: file, json: true)
        struct Item: Decodable { let name: String; let dtype: String; let shape: [Int]; let bytes: Int }
        let items = try JSONDecoder().decode([Item].self, from: Data(json.utf8))
        #expect(items.map(\.name) == header.entries.keys.sorted())
        for item in items {
            let e = try #require(header.entries[item.name])
            #expect(RawSafetensorsHeader.Entry(dtype: item.dtype, shape: item.shape, bytes: item.bytes) == e, "\(item)")
        }
    }

    /// SmolLM2 through the executable: every tensor of Tests/Fixtures/smollm2-135m/tensors.json
    /// (made with transformers) with its shape, all f32 as Scripts/fetch-model writes them.
    @Test(.enabled(if: Fixtures.modelDirectory != nil && NSITool.path != nil, "needs models/smollm2-135m and the built nsi"))
    func smolLM2TensorsMatchTheReference() throws {
        struct Entry: Decodable { let shape: [Int] }
        let expected = try JSONDecoder().decode([String: Entry].self, from: Data(contentsOf: Fixtures.url("smollm2-135m/tensors.json")))
        let r = try NSITool.run(["inspect", Fixtures.modelDirectory! + "/model.safetensors"])
        #expect(r.status == 0 && r.stderr.isEmpty, "\(r.stderr)")
        let (_, rows, total) = try Self.rows(r.stdout)
        #expect(rows.map(\.0) == expected.keys.sorted())
        for (name, dtype, shape) in rows {
            #expect(dtype == "F32" && shape == "[" + (expected[name]?.shape ?? []).map(String.init).joined(separator: ", ") + "]", "\(name)")
        }
        let elements = expected.values.map { $0.shape.reduce(1, *) }.reduce(0, +)
        #expect(total == "\(expected.count) tensors, \(elements) elements, " + String(format: "%.1f MiB", Double(elements * 4) / 1048576), "\(total)")
    }

    /// A missing path, and a folder without weights: `error: ...` naming it on stderr,
    /// status 1, nothing on stdout, no usage text.
    @Test(.enabled(if: NSITool.path != nil, "needs the built nsi"))
    func badPathsAreErrors() throws {
        for path in ["/nonexistent/model.safetensors", Fixtures.path("smollm2-135m")] {
            let r = try NSITool.run(["inspect", path])
            #expect(r.status == 1 && r.stdout.isEmpty, "\(path): \(r.status) \(r.stdout)")
            #expect(r.stderr.hasPrefix("error: ") && r.stderr.contains(path == Fixtures.path("smollm2-135m") ? "smollm2-135m" : path)
                    && !r.stderr.contains("Usage:"), "\(r.stderr)")
        }
        let missing = try NSITool.run(["inspect", "/nonexistent/model.safetensors"])
        #expect(missing.stderr == "error: /nonexistent/model.safetensors: no such file or folder\n", "\(missing.stderr)")
    }
}

/// `nsi logits` and `nsi generate` on SmolLM2 against transformers
/// (Tests/Fixtures/smollm2-135m/logits.json).
@Suite(.enabled(if: Fixtures.modelDirectory != nil && NSITool.path != nil, "needs models/smollm2-135m and the built nsi"))
struct LogitsGenerateCommandTests {
    static var model: String { Fixtures.modelDirectory! }

    /// The listed rows: rank, id, logit, probability, token (a JSON string).
    struct Row { let rank: Int; let id: Int; let logit: Float; let prob: Float; let token: String }

    static func parse(_ stdout: String) throws -> (prompt: String, rows: [Row]) {
        let lines = stdout.split(separator: "\n").map(String.init)
        try #require(lines.count >= 2, "\(stdout)")
        #expect(lines[1] == " rank      id     logit    prob  token")
        let rows = try lines.dropFirst(2).map { line -> Row in
            let f = line.split(separator: " ", maxSplits: 4, omittingEmptySubsequences: true).map(String.init)
            try #require(f.count == 5, "\(line)")
            let token = try JSONDecoder().decode(String.self, from: Data(f[4].utf8))
            return Row(rank: try #require(Int(f[0])), id: try #require(Int(f[1])), logit: try #require(Float(f[2])),
                       prob: try #require(Float(f[3])), token: token)
        }
        return (lines[0], rows)
    }

    /// Top-20 ids as transformers ranks them; logits within 1e-3 of transformers (the
    /// runtime's own tolerance against this reference, SmolLM2Tests) plus the printed
    /// rounding (5e-5); each probability agrees with the listed logits
    /// (p_i = p_1 exp(l_i - l_1), within 2e-4 for the 4 printed decimals).
    @Test(arguments: 0..<3)
    func topLogitsMatchTransformers(index: Int) throws {
        let c = try LogitsReference.cases()[index]
        let r = try NSITool.run(["logits", "--model", Self.model, "-k", "20", c.prompt])
        #expect(r.status == 0, "\(r.stderr)")
        let (prompt, rows) = try Self.parse(r.stdout)
        #expect(prompt == "prompt: \(c.ids.count) tokens [" + c.ids.map(String.init).joined(separator: ", ") + "]")
        #expect(rows.map(\.rank) == Array(1...20))
        #expect(rows.map(\.id) == c.last_top20_ids, "\(c.prompt)")
        try #require(rows.count == c.last_top20_logits.count)
        var worst: Float = 0
        for (row, expected) in zip(rows, c.last_top20_logits) {
            let d = abs(row.logit - expected)
            #expect(d <= 1.05e-3, "id \(row.id): \(row.logit) against \(expected)")    // NaN fails here
            worst = max(worst, d.isNaN ? .infinity : d)
        }
        print("nsi logits \"\(c.prompt.prefix(24))\": top-20 logits max diff \(worst) from transformers (tolerance 1.05e-3)")
        let p1 = rows[0].prob
        #expect(p1 > 0 && p1 <= 1 && rows.map(\.prob).reduce(0, +) <= 1 + 20 * 5e-5)
        for row in rows {
            let implied = p1 * Float(exp(Double(row.logit - rows[0].logit)))
            #expect(abs(row.prob - implied) <= 2e-4, "id \(row.id): prob \(row.prob), from the logits \(implied)")
        }
        // The token column is the decoded id: the greedy text starts with the top token.
        #expect(c.greedy16_text.hasPrefix(rows[0].token) && !rows[0].token.isEmpty, "\(rows[0].token)")
        #expect(try NSITool.run(["logits", "--model", Self.model, "-k", "3", c.prompt]).stdout
                    .split(separator: "\n").count == 2 + 3, "-k 3 lists three")
    }

    /// Greedy 16 tokens: the streamed text and the ids equal transformers'.
    @Test(arguments: 0..<3)
    func greedyGenerationMatchesTransformers(index: Int) throws {
        let c = try LogitsReference.cases()[index]
        let text = try NSITool.run(["generate", "--model", Self.model, "--max-tokens", "16", c.prompt])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout == c.greedy16_text + "\n", "\(c.prompt)")
        let ids = try NSITool.run(["generate", "--model", Self.model, "--max-tokens", "16", "--ids", c.prompt])
        #expect(ids.status == 0, "\(ids.stderr)")
        #expect(ids.stdout == "[" + (c.ids + c.greedy16_ids).map(String.init).joined(separator: ", ") + "]\n")
    }

    /// A model folder that is not there: one `error:` line naming it, status 1, nothing on
    /// stdout, no usage text.
    @Test(arguments: [["logits"], ["generate", "--max-tokens", "2"]])
    func aBadModelPathIsAnError(command: [String]) throws {
        let r = try NSITool.run(command + ["--model", "/nonexistent/model", "hi"])
        #expect(r.status == 1 && r.stdout.isEmpty, "\(r.status) \(r.stdout)")
        #expect(r.stderr.hasPrefix("error: ") && r.stderr.contains("/nonexistent/model") && !r.stderr.contains("Usage:")
                && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
    }
}
