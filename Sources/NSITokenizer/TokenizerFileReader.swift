import NSIJSON
/// Turns a parsed tokenizer.json into the tokenizer's parts, checking every field it
/// relies on. Each component kind is read in its own extension file; this file holds the
/// shared field accessors and error constructors, which all name the file and the JSON
/// path of the offending field.
struct TokenizerFileReader {
    let source: String

    /// Ids from here on are refused: tables are sized by the largest id, and no real
    /// vocabulary comes near it.
    static let maxTokenId = 1 << 24

    func invalid(_ path: String, _ message: String) -> TokenizerError {
        TokenizerError(.invalid, source: source, "\(path): \(message)")
    }

    func unsupported(_ path: String, _ message: String) -> TokenizerError {
        TokenizerError(.unsupported, source: source, "\(path): \(message)")
    }

    func object(_ json: JSONValue, _ path: String) throws(TokenizerError) -> [(key: String, value: JSONValue)] {
        guard let members = json.objectValue else { throw invalid(path, "expected an object, found \(json.kindName)") }
        return members
    }

    func array(_ json: JSONValue, _ path: String) throws(TokenizerError) -> [JSONValue] {
        guard let elements = json.arrayValue else { throw invalid(path, "expected an array, found \(json.kindName)") }
        return elements
    }

    func string(_ json: JSONValue, _ path: String) throws(TokenizerError) -> String {
        guard let s = json.stringValue else { throw invalid(path, "expected a string, found \(json.kindName)") }
        return s
    }

    func int(_ json: JSONValue, _ path: String) throws(TokenizerError) -> Int {
        guard let i = json.intValue else { throw invalid(path, "expected an integer, found \(json.kindName)") }
        return i
    }

    /// A token id: an integer from 0 up to the largest id this module accepts.
    func tokenId(_ json: JSONValue, _ path: String) throws(TokenizerError) -> Int {
        let id = try int(json, path)
        guard id >= 0 && id < TokenizerFileReader.maxTokenId else {
            throw invalid(path, "id \(id) out of range 0..<\(TokenizerFileReader.maxTokenId)")
        }
        return id
    }

    /// The `type` member that names a component's kind.
    func typeName(_ json: JSONValue, _ path: String) throws(TokenizerError) -> String {
        guard json.objectValue != nil else { throw invalid(path, "expected an object, found \(json.kindName)") }
        guard let member = json["type"] else { throw invalid(path, "missing \"type\"") }
        return try string(member, "\(path).type")
    }

    /// An optional boolean member: absent or null gives `defaultValue`.
    func bool(_ json: JSONValue, _ key: String, default defaultValue: Bool, _ path: String) throws(TokenizerError) -> Bool {
        guard let member = json[key], !member.isNull else { return defaultValue }
        guard let b = member.boolValue else { throw invalid("\(path).\(key)", "expected a boolean, found \(member.kindName)") }
        return b
    }

    /// An optional string member: absent or null gives nil.
    func optionalString(_ json: JSONValue, _ key: String, _ path: String) throws(TokenizerError) -> String? {
        guard let member = json[key], !member.isNull else { return nil }
        return try string(member, "\(path).\(key)")
    }

    func supportedList(_ names: [String]) -> String {
        "supported: " + names.joined(separator: ", ")
    }
}
