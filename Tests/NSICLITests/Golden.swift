import Foundation
import Testing
import NSITestSupport

/// This target's golden files (Tests/NSICLITests/Golden), by the shared `Golden` rules.
extension Golden {
    static let testsRoot = Fixtures.tests

    static func fixture(_ relative: String) -> String { Fixtures.path(relative) }

    static func check(_ actual: String, file name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        if let failure = compare(actual, with: testsRoot.appendingPathComponent("NSICLITests/Golden/\(name)")) {
            Issue.record(Comment(rawValue: failure), sourceLocation: sourceLocation)
        }
    }
}
