import ArgumentParser
import Foundation
import NSITokenizer

/// `nsi tokenize`: encode text to ids, or decode ids to text, with a model's tokenizer.json.
public struct TokenizeCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Encode text to token ids (printed as a JSON array), or decode ids back to text.",
        discussion: "Reads DIR/tokenizer.json with --model, or the file named by --tokenizer."
    )

    /// Bad input that is not a tokenizer problem: the message is printed as is.
    public struct InputError: Error, CustomStringConvertible {
        public let description: String
    }

    @Option(name: .long, help: ArgumentHelp("Model directory holding tokenizer.json.", valueName: "DIR"))
    var model: String?

    @Option(name: .long, help: ArgumentHelp("A tokenizer.json file.", valueName: "FILE"))
    var tokenizer: String?

    @Flag(name: .long, help: "Encoding: leave out the special tokens the template adds (such as BOS). Decoding: drop special tokens.")
    var noSpecialTokens = false

    @Flag(name: .long, help: "Read TEXT as a JSON array of ids and print the text they decode to.")
    var decode = false

    @Argument(help: ArgumentHelp("The text to encode, or with --decode a JSON array of ids.", valueName: "TEXT"))
    var text: String

    public init() {}

    public func validate() throws {
        if (model == nil) == (tokenizer == nil) {
            throw ValidationError("Give exactly one of --model DIR or --tokenizer FILE.")
        }
    }

    public func run() throws {
        do {
            let url = Self.tokenizerURL(model: model, tokenizer: tokenizer)
            print(try Self.output(tokenizerAt: url, text: text, decode: decode, specialTokens: !noSpecialTokens))
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }

    /// The tokenizer file named by the options: DIR/tokenizer.json for `--model DIR`.
    public static func tokenizerURL(model: String?, tokenizer: String?) -> URL {
        if let tokenizer { return URL(fileURLWithPath: tokenizer) }
        return URL(fileURLWithPath: model ?? ".").appendingPathComponent("tokenizer.json")
    }

    /// What the command prints: the ids as a one-line JSON array, or the decoded text.
    public static func output(tokenizerAt url: URL, text: String, decode: Bool, specialTokens: Bool) throws -> String {
        let tokenizer = try Tokenizer(contentsOf: url)
        if decode {
            return tokenizer.decode(try parseIds(text), skipSpecialTokens: !specialTokens)
        }
        let ids = tokenizer.encode(text, addSpecialTokens: specialTokens)
        return "[" + ids.map(String.init).joined(separator: ", ") + "]"
    }

    static func parseIds(_ text: String) throws -> [Int] {
        guard let ids = try? JSONDecoder().decode([Int].self, from: Data(text.utf8)) else {
            throw InputError(description: "--decode expects a JSON array of integer ids, such as [19556, 905]; got \(text)")
        }
        return ids
    }
}
