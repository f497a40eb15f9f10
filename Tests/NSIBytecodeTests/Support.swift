import Foundation
import NSICheck
import NSIIR
import NSIModel
import NSISource
import NSISyntax
@testable import NSIBytecode
import NSI
import NSITestSupport

extension Fixtures {
    static func own(_ relative: String) -> String { tests.appendingPathComponent("NSIBytecodeTests/Fixtures/\(relative)").path }

    nonisolated(unsafe) private static var programs: [String: Program] = [:]
    private static let lock = NSLock()

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


