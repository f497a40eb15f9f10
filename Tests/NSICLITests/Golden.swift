import Foundation
import Testing

/// Golden files for text a person reads. `NSI_RECORD_GOLDEN=1` rewrites them; review the diff.
enum Golden {
    static let testsRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    static var recording: Bool { ProcessInfo.processInfo.environment["NSI_RECORD_GOLDEN"] == "1" }

    static func fixture(_ relative: String) -> String { testsRoot.appendingPathComponent("Fixtures/\(relative)").path }

    static func check(_ actual: String, file name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let url = testsRoot.appendingPathComponent("NSICLITests/Golden/\(name)")
        if recording {
            try actual.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
            Issue.record("missing golden file \(name); run with NSI_RECORD_GOLDEN=1", sourceLocation: sourceLocation)
            return
        }
        if expected != actual {
            let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
            let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
            let line = zip(a, e).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, e.count)
            Issue.record("\(name) differs from the golden file at line \(line + 1):\n  got:      \(line < a.count ? String(a[line]) : "<end>")\n  expected: \(line < e.count ? String(e[line]) : "<end>")",
                         sourceLocation: sourceLocation)
        }
    }
}
