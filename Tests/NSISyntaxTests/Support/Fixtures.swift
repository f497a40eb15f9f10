import Foundation
import NSISource

/// Test scripts and golden files. Tests read them from the bundle (Bundle.module);
/// re-recording writes to the source tree, found from this file's path.
enum Fixtures {
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

/// Compares text with a golden file, or rewrites the golden file when the environment
/// variable NSI_RECORD_GOLDEN is 1 (then review the diff and commit it).
enum Golden {
    static var recording: Bool { ProcessInfo.processInfo.environment["NSI_RECORD_GOLDEN"] == "1" }

    /// The golden text at `path` (relative to Fixtures/), or nil if it does not exist yet.
    /// When recording, `actual` is written first and returned.
    static func expected(_ path: String, actual: String) -> String? {
        if recording {
            let url = Fixtures.sourceRoot.appendingPathComponent(path)
            try! FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try! Data(actual.utf8).write(to: url)
            return actual
        }
        let url = Fixtures.bundleRoot.appendingPathComponent(path)
        return (try? Data(contentsOf: url)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// A short account of the first difference, for failure messages.
    static func difference(_ expected: String, _ actual: String) -> String {
        let a = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let b = actual.split(separator: "\n", omittingEmptySubsequences: false)
        for i in 0..<max(a.count, b.count) {
            let x = i < a.count ? String(a[i]) : "<end>"
            let y = i < b.count ? String(b[i]) : "<end>"
            if x != y { return "line \(i + 1):\n  golden: \(x)\n  actual: \(y)" }
        }
        return "no difference"
    }
}
