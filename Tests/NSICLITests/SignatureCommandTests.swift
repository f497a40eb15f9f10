import Foundation
import Testing
@testable import NSICLI
import NSITestSupport

@Suite struct SignatureCommandTests {
    @Test(arguments: Fixtures.tinyModels.map { "tiny/\($0)" } + ["smollm2-135m"])
    func goldenSignatures(model: String) throws {
        let dir = Golden.fixture(model)
        let name = model.split(separator: "/").last!
        try Golden.check(try SignatureCommand.render(directory: dir, json: false), file: "signature-\(name).txt")
        let json = try SignatureCommand.render(directory: dir, json: true)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect((object["points"] as? [Any])?.isEmpty == false)
        #expect((object["hash"] as? String)?.count == 64)
    }

    /// The hash names what scripts are checked against: not where the folder is, but
    /// a change of the shapes (here the MLP's width) or another architecture.
    @Test func hashIsStableAndSensitive() throws {
        func hash(_ dir: String) throws -> Substring? {
            try SignatureCommand.render(directory: dir, json: false).split(separator: "\n").last
        }
        let original = Golden.fixture("tiny/tiny-llama3")
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("nsi-signature-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: copy) }
        try FileManager.default.createDirectory(at: copy, withIntermediateDirectories: true)
        let config = try String(contentsOfFile: original + "/config.json", encoding: .utf8)
        try config.write(to: copy.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        let a = try hash(original), moved = try hash(copy.path)
        #expect(a?.hasPrefix("hash ") == true)
        #expect(moved == a, "the hash depends on the folder's path")
        let changed = config.replacingOccurrences(of: "\"intermediate_size\": 160", with: "\"intermediate_size\": 96")
        #expect(changed != config)
        try changed.write(to: copy.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        #expect(try hash(copy.path) != a, "another MLP width keeps the hash")
        #expect(try hash(Golden.fixture("tiny/tiny-qwen2")) != a)
    }

    @Test func missingFolderIsAClearError() {
        #expect { try SignatureCommand.render(directory: "/nonexistent", json: false) } throws: {
            "\($0)".contains("/nonexistent has no config.json")
        }
    }
}
