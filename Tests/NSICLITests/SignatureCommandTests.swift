import Foundation
import Testing
@testable import NSICLI

@Suite struct SignatureCommandTests {
    @Test(arguments: ["tiny/tiny-gpt2", "tiny/tiny-llama3", "tiny/tiny-qwen2", "tiny/tiny-qwen3", "smollm2-135m"])
    func goldenSignatures(model: String) throws {
        let dir = Golden.fixture(model)
        let name = model.split(separator: "/").last!
        try Golden.check(try SignatureCommand.render(directory: dir, json: false), file: "signature-\(name).txt")
        let json = try SignatureCommand.render(directory: dir, json: true)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect((object["points"] as? [Any])?.isEmpty == false)
        #expect((object["hash"] as? String)?.count == 64)
    }

    @Test func hashIsStableAndSensitive() throws {
        let a = try SignatureCommand.render(directory: Golden.fixture("tiny/tiny-llama3"), json: false)
        let b = try SignatureCommand.render(directory: Golden.fixture("tiny/tiny-llama3"), json: false)
        let c = try SignatureCommand.render(directory: Golden.fixture("tiny/tiny-qwen2"), json: false)
        #expect(a == b)
        #expect(a.split(separator: "\n").last != c.split(separator: "\n").last)
    }

    @Test func missingFolderIsAClearError() {
        #expect { try SignatureCommand.render(directory: "/nonexistent", json: false) } throws: {
            "\($0)".contains("/nonexistent has no config.json")
        }
    }
}
