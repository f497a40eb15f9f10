import Foundation
import NSICheck
import NSIIR
import NSIModel
import NSISource
import NSISyntax
import NSITestSupport

extension Fixtures {
    /// A file of this target's own fixtures (Tests/NSICheckTests/Fixtures).
    static func own(_ relative: String) -> String { tests.appendingPathComponent("NSICheckTests/Fixtures/\(relative)").path }
}

/// Parses and checks a script file. Header comments choose the model (`# model: tiny-gpt2`,
/// default SmolLM2), params (`# params: a=1, b=2`) and, with `# files: refused`, the file
/// policy a server checks with.
func checkFile(_ url: URL, model defaultModel: String = "smollm2-135m") throws -> (SourceFile, ParseResult, CheckResult?) {
    let text = try String(contentsOf: url, encoding: .utf8)
    var model = defaultModel
    var params: [String: String] = [:]
    var files: FilePolicy?
    for line in text.split(separator: "\n") where line.hasPrefix("#") {
        let body = line.dropFirst().trimmingCharacters(in: .whitespaces)
        if body == "files: refused" { files = .refused("this script is checked as a server checks it") }
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
                               baseDirectory: url.deletingLastPathComponent().path, files: files)
    return (file, parsed, result)
}
