import Foundation
import NSISource
import NSITestSupport

/// Test scripts and golden files. Tests read them from the bundle (Bundle.module);
/// re-recording writes to the source tree, found from this file's path.
enum SyntaxFixtures {
    static var bundleRoot: URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
    }

    /// Tests/NSISyntaxTests/Fixtures in the checkout.
    static var sourceRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures")
    }

    /// The package root, for Samples/.
    static var packageRoot: URL {
        sourceRoot.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// The `.nsi` files of a fixture folder, by name.
    static func scripts(in folder: String) -> [String] {
        let url = bundleRoot.appendingPathComponent(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        return names.filter { $0.hasSuffix(".nsi") }.sorted()
    }

    /// A fixture as a SourceFile named `folder/name`, as diagnostics will print it.
    static func source(_ folder: String, _ name: String) -> SourceFile {
        let url = bundleRoot.appendingPathComponent(folder).appendingPathComponent(name)
        return SourceFile(path: "\(folder)/\(name)", bytes: Array(try! Data(contentsOf: url)))
    }

    static var sampleNames: [String] {
        let url = packageRoot.appendingPathComponent("Samples")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        return names.filter { $0.hasSuffix(".nsi") }.sorted()
    }

    static func sample(_ name: String) -> SourceFile {
        let url = packageRoot.appendingPathComponent("Samples").appendingPathComponent(name)
        return SourceFile(path: name, bytes: Array(try! Data(contentsOf: url)))
    }
}

/// This target's golden files live in its bundle (read) and in the checkout (recorded).
extension Golden {
    /// The golden text at `path` (relative to Fixtures/), or nil if it does not exist yet.
    /// When recording, `actual` is written first and returned.
    static func expected(_ path: String, actual: String) -> String? {
        if recording {
            let url = SyntaxFixtures.sourceRoot.appendingPathComponent(path)
            try! FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try! Data(actual.utf8).write(to: url)
            return actual
        }
        let url = SyntaxFixtures.bundleRoot.appendingPathComponent(path)
        return (try? Data(contentsOf: url)).map { String(decoding: $0, as: UTF8.self) }
    }
}
