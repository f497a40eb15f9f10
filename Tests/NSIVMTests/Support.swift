import Foundation
import NSICheck
import NSIIR
import NSIModel
import NSIRuntime
import NSISource
import NSISyntax
import NSIVM
import NSITensor
import Testing
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

/// The names the results file writes whole beside their elements (`lens` beside `lens.0`
/// ...) that the reference does not have, each checked element by element against our
/// own element keys, which the caller compares with the reference.
func wholeIndexedNames(_ ours: [String: Tensor], reference names: [String]) -> Set<String> {
    var wholes = Set<String>()
    for (name, whole) in ours where !names.contains(name) {
        let elements = ours.keys.filter { $0.hasPrefix(name + ".") && $0.dropFirst(name.count + 1).split(separator: ".").allSatisfy { Int($0) != nil } }
        guard !elements.isEmpty else { continue }
        wholes.insert(name)
        for key in elements {
            let index = key.dropFirst(name.count + 1).split(separator: ".").map { Int($0)! }
            var part = whole
            for i in index { part = part.select(dim: 0, index: i) }
            #expect(part.contiguous().toFloats() == ours[key]?.toFloats(), "\(name)\(index) is not \(key)")
        }
    }
    return wholes
}
