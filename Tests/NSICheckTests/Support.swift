import Foundation
import NSICheck
import NSIIR
import NSIModel
import NSISource
import NSISyntax

enum Fixtures {
    static let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    static let repository = tests.deletingLastPathComponent()
    static func path(_ relative: String) -> String { tests.appendingPathComponent("Fixtures/\(relative)").path }
    static func own(_ relative: String) -> String { tests.appendingPathComponent("NSICheckTests/Fixtures/\(relative)").path }

    /// Signatures of the test models, read once: SmolLM2 (config and tokenizer, no
    /// weights) and the tiny models (no tokenizer).
    nonisolated(unsafe) private static var cache: [String: ModelSignature] = [:]
    private static let lock = NSLock()

    static func signature(_ model: String) throws -> ModelSignature {
        lock.lock()
        defer { lock.unlock() }
        if let s = cache[model] { return s }
        let dir = model == "smollm2-135m" ? path("smollm2-135m") : path("tiny/\(model)")
        let s = try ModelSignature.load(directory: dir)
        cache[model] = s
        return s
    }

    static func files(in folder: String, ext: String = "nsi") -> [URL] {
        let url = URL(fileURLWithPath: folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { $0.hasSuffix("." + ext) }.sorted().map { url.appendingPathComponent($0) }
    }
}

/// Parses and checks a script file. Header comments choose the model (`# model: tiny-gpt2`,
/// default SmolLM2) and params (`# params: a=1, b=2`).
func checkFile(_ url: URL, model defaultModel: String = "smollm2-135m") throws -> (SourceFile, ParseResult, CheckResult?) {
    let text = try String(contentsOf: url, encoding: .utf8)
    var model = defaultModel
    var params: [String: String] = [:]
    for line in text.split(separator: "\n") where line.hasPrefix("#") {
        let body = line.dropFirst().trimmingCharacters(in: .whitespaces)
        if body.hasPrefix("model:") { model = body.dropFirst(6).trimmingCharacters(in: .whitespaces) }
        if body.hasPrefix("params:") {
            for item in body.dropFirst(7).split(separator: ",") {
                let kv = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                if kv.count == 2 { params[kv[0]] = kv[1] }
            }
        }
    }
    let file = SourceFile(path: url.lastPathComponent, text: text)
    let parsed = Parser.parse(file)
    guard !parsed.hasErrors else { return (file, parsed, nil) }
    let result = Checker.check(parsed, signature: try Fixtures.signature(model), params: params,
                               baseDirectory: url.deletingLastPathComponent().path)
    return (file, parsed, result)
}
