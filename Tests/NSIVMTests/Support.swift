import Foundation
import NSICheck
import NSIIR
import NSIModel
import NSIRuntime
import NSISource
import NSISyntax
import NSIVM
import NSITestSupport

extension Fixtures {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var loaded: LanguageModel?

    /// SmolLM2, loaded once for the suite.
    static func model() throws -> LanguageModel {
        lock.lock()
        defer { lock.unlock() }
        if let m = loaded { return m }
        let m = try LanguageModel(directory: modelDirectory!)
        loaded = m
        return m
    }
}

struct ScriptError: Error, CustomStringConvertible { let description: String }

/// Parses and checks a script against a model folder's signature.
func compile(_ text: String, model: String? = nil, params: [String: String] = [:], path: String = "test.nsi") throws -> Program {
    let parsed = Parser.parse(SourceFile(path: path, text: text))
    let signature = try ModelSignature.load(directory: model ?? Fixtures.modelDirectory!)
    let result = Checker.check(parsed, signature: signature, params: params, baseDirectory: Fixtures.repository.path)
    guard let program = result.program else {
        throw ScriptError(description: (parsed.diagnostics + result.diagnostics).map { "\($0.code) \($0.message)" }.joined(separator: "\n"))
    }
    return program
}

func run(_ text: String, limits: VMLimits = VMLimits(), params: [String: RunValue] = [:]) throws -> RunResults {
    try VM(model: try Fixtures.model(), limits: limits).run(try compile(text), params: params)
}
