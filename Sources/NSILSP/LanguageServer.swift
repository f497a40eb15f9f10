import Foundation
import NSICheck
import NSIIR
import NSIJSON
import NSIModel
import NSISource
import NSISyntax

/// `nsi lsp`: a Language Server Protocol server over a pair of file descriptors (stdin
/// and stdout for the CLI). It keeps each open document checked against the model's
/// signature (config.json and tokenizer.json only: no weight is read) and answers from
/// the checker: diagnostics exactly as `nsi check` gives them, hover with types and
/// shapes, completion of access points, methods and names, definitions and references of
/// names, document symbols, formatting through the formatter of `nsi fmt`, and quick
/// fixes for misspelt names. Requests run one at a time in arrival order; diagnostics are
/// published once no more messages are queued (typing fast checks once).
/// One thread runs it (`run`); it is Sendable only to be handed to that thread.
public final class LanguageServer: @unchecked Sendable {
    /// Where the model comes from when the client names none: `NSI_MODEL`, then the
    /// nearest `nsi.toml` (`model = "path"`) above the document.
    let environmentModel: String?
    var configuredModel: String?
    var signatures: [String: Result<ModelSignature, Error>] = [:]
    /// The model an `nsi.toml` names, by script folder (nil: none found), so a change does
    /// not search the folders again; cleared when an nsi.toml or the settings change.
    var tomlModels: [String: String?] = [:]
    var documents: [String: Document] = [:]
    var stale: Set<String> = []
    /// Documents replaced since the last publish: freed after the diagnostics are sent, so
    /// tearing down a large script's tree and types does not delay them.
    var retired: [Document] = []
    var shutdownRequested = false
    var noticeSent = false
    let writer: MessageWriter
    let log: (String) -> Void

    public init(output: Int32, environmentModel: String? = ProcessInfo.processInfo.environment["NSI_MODEL"],
                log: @escaping (String) -> Void = { FileHandle.standardError.write(Data(("nsi lsp: " + $0 + "\n").utf8)) }) {
        writer = MessageWriter(fd: output)
        self.environmentModel = environmentModel.flatMap { $0.isEmpty ? nil : $0 }
        self.log = log
    }

    /// Serves messages from `input` until `exit` or the end of the stream. The process's
    /// exit status: 0 after `shutdown` then `exit`, 1 otherwise (as the protocol asks).
    public func run(input: Int32) -> Int32 {
        let reader = MessageReader(fd: input)
        while let frame = reader.next() {
            switch frame {
            case .malformed(let problem):
                log(problem)
                respond(id: .null, error: (-32700, "parse error: \(problem)"))
            case .message(let body):
                if let status = handle(body) { return status }
            }
            if !stale.isEmpty && !reader.hasFrameReady() { publishStale() }
            if stale.isEmpty { retired.removeAll() }
        }
        return shutdownRequested ? 0 : 1
    }

    // MARK: Messages

    /// Handles one message; returns the exit status after `exit`.
    func handle(_ body: [UInt8]) -> Int32? {
        let message: JSONValue
        do { message = try JSONValue.parse(body) } catch {
            respond(id: .null, error: (-32700, "parse error: \(error)"))
            return nil
        }
        guard case .object = message, let method = message["method"]?.stringValue else {
            // A response to a request of ours (none are sent that wait for one) or junk.
            if message["id"] == nil || message["result"] == nil && message["error"] == nil {
                respond(id: message["id"] ?? .null, error: (-32600, "invalid request: an object with a \"method\" is expected"))
            }
            return nil
        }
        let id = message["id"]
        let params = message["params"] ?? .object([])
        if method == "exit" { return shutdownRequested ? 0 : 1 }
        if shutdownRequested, id != nil {
            respond(id: id!, error: (-32600, "the server is shutting down"))
            return nil
        }
        do {
            let result = try dispatch(method, params, isRequest: id != nil)
            if let id {
                if let result { respond(id: id, result: result) } else { respond(id: id, error: (-32601, "method not found: \(method)")) }
            }
        } catch let e as RequestError {
            if let id { respond(id: id, error: (e.code, e.message)) }
        } catch {
            if let id { respond(id: id, error: (-32603, "internal error: \(error)")) }
        }
        return nil
    }

    struct RequestError: Error {
        let code: Int
        let message: String
        static func params(_ what: String) -> RequestError { RequestError(code: -32602, message: "invalid params: \(what)") }
    }

    /// A request's result (`.null` for none), or nil for an unknown method.
    func dispatch(_ method: String, _ params: JSONValue, isRequest: Bool) throws -> JSONValue? {
        switch method {
        case "initialize": return initialize(params)
        case "initialized":
            if resolveModel(for: nil) == nil { notice() }
            return .null
        case "shutdown":
            shutdownRequested = true
            return .null
        case "textDocument/didOpen":
            guard let doc = params["textDocument"], let uri = doc["uri"]?.stringValue, let text = doc["text"]?.stringValue else {
                throw RequestError.params("textDocument with uri and text")
            }
            open(uri, version: doc["version"]?.intValue ?? 0, text: text)
            return .null
        case "textDocument/didChange":
            guard let uri = params["textDocument"]?["uri"]?.stringValue, var text = documents[uri].map({ String(decoding: $0.file.bytes, as: UTF8.self) }),
                  let changes = params["contentChanges"]?.arrayValue else {
                throw RequestError.params("an open textDocument and contentChanges")
            }
            for change in changes {
                guard let newText = change["text"]?.stringValue else { throw RequestError.params("a change without text") }
                // An incremental change: its range is in the text as it stands before it.
                if let r = change["range"], let range = SourceFile(path: uri, text: text).range(from: r) {
                    var bytes = Array(text.utf8)
                    bytes.replaceSubrange(range.start..<max(range.start, range.end), with: Array(newText.utf8))
                    text = String(decoding: bytes, as: UTF8.self)
                } else {
                    text = newText
                }
            }
            open(uri, version: params["textDocument"]?["version"]?.intValue ?? 0, text: text)
            return .null
        case "textDocument/didClose":
            if let uri = params["textDocument"]?["uri"]?.stringValue {
                documents[uri] = nil
                stale.remove(uri)
                publish(uri: uri, diagnostics: .array([]))
            }
            return .null
        case "workspace/didChangeConfiguration":
            if let model = params["settings"]?["nsi"]?["model"]?.stringValue {
                configuredModel = model.isEmpty ? nil : model
                recheckAll()
            }
            return .null
        case "workspace/didChangeWatchedFiles":
            // An nsi.toml appeared or changed: which model each script uses may have too.
            recheckAll()
            return .null
        case "$/cancelRequest", "$/setTrace", "textDocument/didSave":
            return .null   // requests run in order, each to its end; nothing to cancel
        case "textDocument/hover": return try hover(params)
        case "textDocument/completion": return try completion(params)
        case "textDocument/definition": return try definition(params)
        case "textDocument/references": return try references(params)
        case "textDocument/documentSymbol": return try symbols(params)
        case "textDocument/formatting": return try formatting(params)
        case "textDocument/codeAction": return try codeActions(params)
        default:
            return isRequest ? nil : .null   // unknown notifications are ignored
        }
    }

    func respond(id: JSONValue, result: JSONValue) {
        writer.send(JSONValue.object([("jsonrpc", .string("2.0")), ("id", id), ("result", result)]).serialized)
    }

    func respond(id: JSONValue, error: (Int, String)) {
        let e = JSONValue.object([("code", .int(Int64(error.0))), ("message", .string(error.1))])
        writer.send(JSONValue.object([("jsonrpc", .string("2.0")), ("id", id), ("error", e)]).serialized)
    }

    func notify(_ method: String, _ params: JSONValue) {
        writer.send(JSONValue.object([("jsonrpc", .string("2.0")), ("method", .string(method)), ("params", params)]).serialized)
    }

    // MARK: Lifecycle

    func initialize(_ params: JSONValue) -> JSONValue {
        if let model = params["initializationOptions"]?["model"]?.stringValue, !model.isEmpty { configuredModel = model }
        let capabilities: JSONValue = .object([
            ("textDocumentSync", .object([("openClose", .bool(true)), ("change", .int(2))])),
            ("hoverProvider", .bool(true)),
            ("completionProvider", .object([("triggerCharacters", .array([.string(".")]))])),
            ("definitionProvider", .bool(true)),
            ("referencesProvider", .bool(true)),
            ("documentSymbolProvider", .bool(true)),
            ("documentFormattingProvider", .bool(true)),
            ("codeActionProvider", .bool(true)),
        ])
        return .object([("capabilities", capabilities), ("serverInfo", .object([("name", .string("nsi")), ("version", .string("0.1"))]))])
    }

    func notice() {
        guard !noticeSent else { return }
        noticeSent = true
        notify("window/showMessage", .object([("type", .int(3)), ("message", .string(
            "nsi: no model found (set nsi.model, NSI_MODEL, or model = \"path\" in an nsi.toml): syntax errors only, no shapes"))]))
    }

    // MARK: Models

    /// The model folder for a document: the client's setting, `NSI_MODEL`, or the nearest
    /// `nsi.toml` above it (a relative path is relative to that file).
    func resolveModel(for path: String?) -> String? {
        if let configuredModel { return configuredModel }
        if let environmentModel { return environmentModel }
        guard let path else { return nil }
        let folder = (path as NSString).deletingLastPathComponent
        if let known = tomlModels[folder] { return known }
        var dir = folder
        defer { if tomlModels[folder] == nil { tomlModels[folder] = .some(nil) } }
        while !dir.isEmpty {
            let toml = (dir as NSString).appendingPathComponent("nsi.toml")
            if let text = try? String(contentsOfFile: toml, encoding: .utf8), let model = Self.modelSetting(text) {
                let found = model.hasPrefix("/") ? model : (dir as NSString).appendingPathComponent(model)
                tomlModels[folder] = .some(found)
                return found
            }
            let parent = (dir as NSString).deletingLastPathComponent
            if parent == dir { break }
            dir = parent
        }
        return nil
    }

    /// `model = "path"` in an nsi.toml (a comment after `#` is ignored).
    static func modelSetting(_ toml: String) -> String? {
        for line in toml.split(separator: "\n") {
            let code = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let parts = code.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == "model" else { continue }
            let value = parts[1].trimmingCharacters(in: .whitespaces)
            guard value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") else { continue }
            return String(value.dropFirst().dropLast())
        }
        return nil
    }

    func signature(for path: String) -> ModelSignature? {
        guard let dir = resolveModel(for: path) else {
            notice()
            return nil
        }
        if signatures[dir] == nil {
            signatures[dir] = Result { try ModelSignature.load(directory: dir) }
            if case .failure(let e) = signatures[dir]! {
                notify("window/showMessage", .object([("type", .int(1)), ("message", .string("nsi: cannot read the model at \(dir): \(e); syntax errors only"))]))
            }
        }
        return try? signatures[dir]!.get()
    }

    // MARK: Documents

    func open(_ uri: String, version: Int, text: String) {
        let path = Document.path(of: uri)
        if let old = documents.removeValue(forKey: uri) { retired.append(old) }
        documents[uri] = Document(uri: uri, version: version, text: text, signature: signature(for: path))
        stale.insert(uri)
    }

    func recheckAll() {
        signatures = [:]
        tomlModels = [:]
        for (uri, doc) in documents { open(uri, version: doc.version, text: String(decoding: doc.file.bytes, as: UTF8.self)) }
    }

    func publishStale() {
        for uri in stale.sorted() {
            guard let doc = documents[uri] else { continue }
            publish(uri: uri, diagnostics: .array(doc.diagnostics.map { lspDiagnostic($0, in: doc) }), version: doc.version)
        }
        stale = []
    }

    func publish(uri: String, diagnostics: JSONValue, version: Int? = nil) {
        var p: [(key: String, value: JSONValue)] = [("uri", .string(uri)), ("diagnostics", diagnostics)]
        if let version { p.append(("version", .int(Int64(version)))) }
        notify("textDocument/publishDiagnostics", .object(p))
    }

    /// A diagnostic as the protocol has it: the message with its notes and help, the
    /// other labelled places as related information.
    func lspDiagnostic(_ d: Diagnostic, in doc: Document) -> JSONValue {
        var message = d.message
        if !d.primary.message.isEmpty { message += " (\(d.primary.message))" }
        for note in d.notes { message += "\nnote: \(note)" }
        if let help = d.help { message += "\nhelp: \(help)" }
        var fields: [(key: String, value: JSONValue)] = [
            ("range", doc.range(d.primary.range)),
            ("severity", .int(d.isError ? 1 : 2)),
            ("code", .string(d.code.rawValue)),
            ("source", .string("nsi")),
            ("message", .string(message)),
        ]
        if !d.secondary.isEmpty {
            fields.append(("relatedInformation", .array(d.secondary.map { label in
                .object([("location", .object([("uri", .string(doc.uri)), ("range", doc.range(label.range))])),
                         ("message", .string(label.message.isEmpty ? "here" : label.message))])
            })))
        }
        return .object(fields)
    }

    func document(_ params: JSONValue) throws -> Document {
        guard let uri = params["textDocument"]?["uri"]?.stringValue else { throw RequestError.params("textDocument.uri") }
        guard let doc = documents[uri] else { throw RequestError(code: -32602, message: "invalid params: \(uri) is not open") }
        return doc
    }

    func offset(_ params: JSONValue, in doc: Document) throws -> Int {
        guard let line = params["position"]?["line"]?.intValue, let character = params["position"]?["character"]?.intValue else {
            throw RequestError.params("position")
        }
        return doc.offset(line: line, character: character)
    }
}
