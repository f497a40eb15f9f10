import Foundation
import Testing
import NSIJSON
import NSILSP
import NSITestSupport

/// Drives `nsi lsp`'s server as an editor would, through a pair of pipes with the
/// protocol's framing: open a script, edit it into an error, hover, complete, find
/// definitions, format, fix, and shut down; malformed messages get errors and the server
/// keeps serving. The model is a tiny Llama (no tokenizer: prompts are token ids).
final class Client {
    /// The server's thread: what it returned, signalled when it did.
    final class Runner: @unchecked Sendable {
        let server: LanguageServer
        let input: Int32
        var status: Int32?
        let done = DispatchSemaphore(value: 0)
        init(_ server: LanguageServer, _ input: Int32) { self.server = server; self.input = input }
        func run() { status = server.run(input: input); done.signal() }
    }

    let toServer = Pipe(), fromServer = Pipe()
    let runner: Runner
    var buffer: [UInt8] = []
    var nextID = 1
    /// Notifications received while waiting for responses, in order.
    var notifications: [JSONValue] = []

    init(model: String?) {
        let server = LanguageServer(output: fromServer.fileHandleForWriting.fileDescriptor, environmentModel: model, log: { _ in })
        runner = Runner(server, toServer.fileHandleForReading.fileDescriptor)
        let r = runner
        Thread { r.run() }.start()
    }

    func sendRaw(_ bytes: [UInt8]) {
        toServer.fileHandleForWriting.write(Data(bytes))
    }

    func send(_ message: JSONValue) {
        let body = Array(message.serialized.utf8)
        sendRaw(Array("Content-Length: \(body.count)\r\n\r\n".utf8) + body)
    }

    func notify(_ method: String, _ params: JSONValue) {
        send(.object([("jsonrpc", .string("2.0")), ("method", .string(method)), ("params", params)]))
    }

    /// A request's response (notifications that arrive first are kept).
    func request(_ method: String, _ params: JSONValue) throws -> JSONValue {
        let id = nextID
        nextID += 1
        send(.object([("jsonrpc", .string("2.0")), ("id", .int(Int64(id))), ("method", .string(method)), ("params", params)]))
        return try response(id: .int(Int64(id)))
    }

    func response(id: JSONValue) throws -> JSONValue {
        while true {
            let m = try receive()
            if m["method"] != nil && m["id"] == nil { notifications.append(m); continue }
            if m["id"] == id { return m }
        }
    }

    /// The next notification named `method`.
    func notification(_ method: String) throws -> JSONValue {
        if let i = notifications.firstIndex(where: { $0["method"]?.stringValue == method }) { return notifications.remove(at: i) }
        while true {
            let m = try receive()
            if m["method"]?.stringValue == method { return m }
            notifications.append(m)
        }
    }

    struct Timeout: Error {}

    /// The next framed message, failing after 20 s without one.
    func receive() throws -> JSONValue {
        let fd = fromServer.fileHandleForReading.fileDescriptor
        let deadline = Date().addingTimeInterval(20)
        while true {
            if let end = headerEnd(), let length = contentLength(end), buffer.count >= end + length {
                let body = Array(buffer[end..<(end + length)])
                buffer.removeFirst(end + length)
                return try JSONValue.parse(body)
            }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let left = Int32(max(0, deadline.timeIntervalSinceNow * 1000))
            guard left > 0, poll(&p, 1, left) > 0 else { throw Timeout() }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw Timeout() }
            buffer += chunk[0..<n]
        }
    }

    private func headerEnd() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for i in 0...(buffer.count - 4) where buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 { return i + 4 }
        return nil
    }

    private func contentLength(_ end: Int) -> Int? {
        let text = String(decoding: buffer[0..<end], as: UTF8.self)
        return text.components(separatedBy: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) }
    }

    /// Closes the server's input and waits for its exit status.
    func finish() -> Int32? {
        try? toServer.fileHandleForWriting.close()
        _ = runner.done.wait(timeout: .now() + 20)
        return runner.status
    }
}

func position(_ line: Int, _ character: Int) -> JSONValue {
    .object([("line", .int(Int64(line))), ("character", .int(Int64(character)))])
}

func doc(_ uri: String) -> JSONValue { .object([("uri", .string(uri))]) }

@Suite struct LanguageServerTests {
    static let model = Fixtures.path("tiny/tiny-llama3")
    static let uri = "file:///tmp/nsi-lsp-test/probe.nsi"
    static let script = """
    param layer: int = 1
    trace [5, 17, 42, 99] {
        let h = model.layers[layer].output
        save s = h[0, -1].norm()
        save m = model.logits[0, -1]
    }

    """

    func open(_ c: Client, _ text: String, version: Int = 1) {
        c.notify("textDocument/didOpen", .object([("textDocument", .object([
            ("uri", .string(Self.uri)), ("languageId", .string("nsi")), ("version", .int(Int64(version))), ("text", .string(text)),
        ]))]))
    }

    @Test func editingHoverCompletionAndShutdown() throws {
        let c = Client(model: Self.model)
        let initialized = try c.request("initialize", .object([("capabilities", .object([]))]))
        #expect(initialized["result"]?["capabilities"]?["hoverProvider"]?.boolValue == true)
        c.notify("initialized", .object([]))
        open(c, Self.script)
        let clean = try c.notification("textDocument/publishDiagnostics")
        #expect(clean["params"]?["diagnostics"]?.arrayValue?.isEmpty == true, "\(clean.serialized)")

        // Edit it into a shape error: the diagnostic nsi check gives, at the index.
        let broken = Self.script.replacingOccurrences(of: "h[0, -1].norm()", with: "h[0, -1, 64].norm()")
        c.notify("textDocument/didChange", .object([
            ("textDocument", .object([("uri", .string(Self.uri)), ("version", .int(2))])),
            ("contentChanges", .array([.object([("text", .string(broken))])])),
        ]))
        let errors = try c.notification("textDocument/publishDiagnostics")
        let d = try #require(errors["params"]?["diagnostics"]?.arrayValue?.first)
        #expect(d["code"]?.stringValue == "E0303")
        #expect(d["severity"]?.intValue == 1)
        #expect(d["range"]?["start"]?["line"]?.intValue == 3 && d["range"]?["start"]?["character"]?.intValue == 22, "\(d.serialized)")
        #expect(errors["params"]?["version"]?.intValue == 2)

        // An incremental change back (the range replaces `, 64`).
        c.notify("textDocument/didChange", .object([
            ("textDocument", .object([("uri", .string(Self.uri)), ("version", .int(3))])),
            ("contentChanges", .array([.object([("range", .object([("start", position(3, 20)), ("end", position(3, 24))])), ("text", .string(""))])])),
        ]))
        let fixed = try c.notification("textDocument/publishDiagnostics")
        #expect(fixed["params"]?["diagnostics"]?.arrayValue?.isEmpty == true, "\(fixed.serialized)")

        // Hover: the point's type and names; a slice's shape; a param's binding.
        let hover = try c.request("textDocument/hover", .object([("textDocument", doc(Self.uri)), ("position", position(2, 20))]))
        let text = try #require(hover["result"]?["contents"]?["value"]?.stringValue)
        #expect(text.contains("f32[1, 4, 64]") && text.contains("model.layers[1].output") && text.contains("access point")
                && text.contains("the residual stream after this decoder layer"), "\(text)")
        let paramHover = try c.request("textDocument/hover", .object([("textDocument", doc(Self.uri)), ("position", position(2, 27))]))
        #expect(paramHover["result"]?["contents"]?["value"]?.stringValue?.contains("fixed when compiling") == true, "\(paramHover.serialized)")

        // Completion after `model.layers[layer].` lists that layer's points and modules.
        let line = "    save q = model.layers[layer].a"
        c.notify("textDocument/didChange", .object([
            ("textDocument", .object([("uri", .string(Self.uri)), ("version", .int(4))])),
            ("contentChanges", .array([.object([("text", .string(Self.script.replacingOccurrences(of: "    save m =", with: line + "\n    save m =")))])])),
        ]))
        let items = try c.request("textDocument/completion", .object([("textDocument", doc(Self.uri)), ("position", position(4, line.count - 1))]))
        let labels = (items["result"]?["items"]?.arrayValue ?? []).compactMap { $0["label"]?.stringValue }
        #expect(Set(["output", "attn", "mlp", "resid_mid"]).isSubset(of: labels), "\(labels)")
        let top = try c.request("textDocument/completion", .object([("textDocument", doc(Self.uri)), ("position", position(4, 17))]))
        let topLabels = (top["result"]?["items"]?.arrayValue ?? []).compactMap { $0["label"]?.stringValue }
        #expect(topLabels.contains("trace") && topLabels.contains("einsum") && topLabels.contains("h") && topLabels.contains("layer"), "\(topLabels)")

        // Definition and references of `h`; the document's symbols.
        let definition = try c.request("textDocument/definition", .object([("textDocument", doc(Self.uri)), ("position", position(3, 13))]))
        #expect(definition["result"]?["range"]?["start"]?["line"]?.intValue == 2 && definition["result"]?["range"]?["start"]?["character"]?.intValue == 8)
        let refs = try c.request("textDocument/references", .object([("textDocument", doc(Self.uri)), ("position", position(2, 8)),
                                                                    ("context", .object([("includeDeclaration", .bool(true))]))]))
        #expect(refs["result"]?.arrayValue?.count == 2)
        let symbols = try c.request("textDocument/documentSymbol", .object([("textDocument", doc(Self.uri))]))
        let names = (symbols["result"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        #expect(names.first == "layer" && names.contains { $0.hasPrefix("trace") }, "\(names)")

        #expect(try c.request("shutdown", .null)["result"] == .null)
        c.notify("exit", .null)
        #expect(c.finish() == 0)
    }

    @Test func formattingAndQuickFix() throws {
        let c = Client(model: Self.model)
        _ = try c.request("initialize", .object([("capabilities", .object([]))]))
        open(c, "trace [5, 17] {\n  save x=model.layers[0].outptu[0]\n}\n")
        let published = try c.notification("textDocument/publishDiagnostics")
        let d = try #require(published["params"]?["diagnostics"]?.arrayValue?.first)
        #expect(d["code"]?.stringValue == "E0404", "\(d.serialized)")
        let actions = try c.request("textDocument/codeAction", .object([
            ("textDocument", doc(Self.uri)), ("range", d["range"]!), ("context", .object([("diagnostics", .array([d]))])),
        ]))
        let edit = try #require(actions["result"]?.arrayValue?.first?["edit"]?["changes"]?[Self.uri]?.arrayValue?.first)
        #expect(edit["newText"]?.stringValue == "model.layers[0].output", "\(actions.serialized)")
        let formatted = try c.request("textDocument/formatting", .object([("textDocument", doc(Self.uri)), ("options", .object([]))]))
        let newText = try #require(formatted["result"]?.arrayValue?.first?["newText"]?.stringValue)
        #expect(newText == "trace [5, 17] {\n    save x = model.layers[0].outptu[0]\n}\n")
        _ = try c.request("shutdown", .null)
        c.notify("exit", .null)
        #expect(c.finish() == 0)
    }

    /// Inside a static loop, hover shows the first pass's point and says so.
    @Test func hoverInsideALoopNamesItsPass() throws {
        let c = Client(model: Self.model)
        _ = try c.request("initialize", .object([("capabilities", .object([]))]))
        open(c, "trace [5, 17] {\n    for l in 1..<model.num_layers {\n        save r[l] = model.layers[l].output[0, 0]\n    }\n    save z = model.layers[0].output\n}\n")
        _ = try c.notification("textDocument/publishDiagnostics")
        let inLoop = try c.request("textDocument/hover", .object([("textDocument", doc(Self.uri)), ("position", position(2, 38))]))
        let text = try #require(inLoop["result"]?["contents"]?["value"]?.stringValue)
        #expect(text.contains("model.layers[1].output") && text.contains("`l = 1`") && text.contains("each pass reads its own point"), "\(text)")
        let outside = try c.request("textDocument/hover", .object([("textDocument", doc(Self.uri)), ("position", position(4, 28))]))
        let plain = try #require(outside["result"]?["contents"]?["value"]?.stringValue)
        #expect(plain.contains("model.layers[0].output") && !plain.contains("pass"), "\(plain)")
        _ = try c.request("shutdown", .null)
        c.notify("exit", .null)
        #expect(c.finish() == 0)
    }

    /// Bad JSON, a frame without Content-Length, a request for an unknown method, a
    /// document never opened, a message split over many writes: each gets its error (or
    /// its answer) and the server goes on; `exit` without `shutdown` exits with 1.
    @Test func malformedMessagesNeverKillTheServer() throws {
        let c = Client(model: Self.model)
        _ = try c.request("initialize", .object([("capabilities", .object([]))]))
        c.sendRaw(Array("Content-Length: 9\r\n\r\n{\"bad\": }".utf8))
        #expect(try c.response(id: .null)["error"]?["code"]?.intValue == -32700)
        c.sendRaw(Array("Content-Type: application/json\r\n\r\n".utf8))
        #expect(try c.response(id: .null)["error"]?["code"]?.intValue == -32700)
        c.sendRaw(Array("Content-Length: 2\r\n\r\n[]".utf8))
        #expect(try c.response(id: .null)["error"]?["code"]?.intValue == -32600)
        #expect(try c.request("workspace/nonsense", .object([]))["error"]?["code"]?.intValue == -32601)
        let notOpen = try c.request("textDocument/hover", .object([("textDocument", doc("file:///nowhere.nsi")), ("position", position(0, 0))]))
        #expect(notOpen["error"]?["code"]?.intValue == -32602)
        #expect(try c.request("textDocument/hover", .object([]))["error"]?["code"]?.intValue == -32602)
        // One message, a byte at a time.
        let body = Array(#"{"jsonrpc":"2.0","id":99,"method":"shutdown"}"#.utf8)
        for b in Array("Content-Length: \(body.count)\r\n\r\n".utf8) + body { c.sendRaw([b]) }
        #expect(try c.response(id: .int(99))["result"] == .null)
        let c2 = Client(model: Self.model)
        c2.notify("exit", .null)
        #expect(c2.finish() == 1)
        c.notify("exit", .null)
        #expect(c.finish() == 0)
    }

    /// The model named by the nearest nsi.toml above the script (a relative path from it).
    @Test func modelFromTheNearestTOML() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("nsi-lsp-\(UUID().uuidString)")
        let scripts = root.appendingPathComponent("scripts/deeper")
        try FileManager.default.createDirectory(at: scripts, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let relative = String(repeating: "../", count: root.pathComponents.count - 1) + String(Self.model.dropFirst())
        try "# the model these scripts are checked against\nmodel = \"\(relative)\"\n".write(to: root.appendingPathComponent("nsi.toml"), atomically: true, encoding: .utf8)
        let c = Client(model: nil)
        _ = try c.request("initialize", .object([("capabilities", .object([]))]))
        c.notify("textDocument/didOpen", .object([("textDocument", .object([
            ("uri", .string("file://" + scripts.appendingPathComponent("probe.nsi").path)), ("languageId", .string("nsi")),
            ("version", .int(1)), ("text", .string("trace [5, 17] {\n    save x = model.layers[0].output[0, 0, 64]\n}\n")),
        ]))]))
        let published = try c.notification("textDocument/publishDiagnostics")
        let codes = (published["params"]?["diagnostics"]?.arrayValue ?? []).compactMap { $0["code"]?.stringValue }
        #expect(codes == ["E0303"], "\(published.serialized)")
        _ = try c.request("shutdown", .null)
        c.notify("exit", .null)
        #expect(c.finish() == 0)
    }

    /// Without a model: a notice, and syntax errors only.
    @Test func withoutAModelSyntaxOnly() throws {
        let c = Client(model: nil)
        _ = try c.request("initialize", .object([("capabilities", .object([]))]))
        c.notify("initialized", .object([]))
        let notice = try c.notification("window/showMessage")
        #expect(notice["params"]?["message"]?.stringValue?.contains("no model") == true)
        open(c, "trace [1] {\n    save x = model.nope[0\n}\n")
        let published = try c.notification("textDocument/publishDiagnostics")
        let codes = (published["params"]?["diagnostics"]?.arrayValue ?? []).compactMap { $0["code"]?.stringValue }
        #expect(!codes.isEmpty && codes.allSatisfy { $0.hasPrefix("E01") || $0.hasPrefix("E00") }, "\(codes)")
        _ = try c.request("shutdown", .null)
        c.notify("exit", .null)
        #expect(c.finish() == 0)
    }
}
