import NSIClient
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
@testable import NSIServer
import NSITestSupport

enum Paths {
    static let root = Fixtures.repository
    /// The fetched SmolLM2 folder, or nil.
    static let smollm = Fixtures.modelDirectory
    /// A tiny random Llama (no tokenizer): enough to host for tests that run nothing.
    static let tiny = Fixtures.tiny("tiny-llama3")
    /// The built `nsi` executable beside the test bundle, or nil.
    static let nsi = Fixtures.nsiExecutable

    static func temporaryDirectory(_ tag: String) throws -> String { try Fixtures.temporaryDirectory(tag) }
}

/// A job that holds its worker for minutes unless cancelled or killed: 200 products of
/// 4096-square matrices (about 27 TFLOP), each depending on `i`, so none is computed once
/// for all. Tests that must see a job active (running, or queued behind it), whatever the
/// machine's load and however late the test resumes after an await, use it.
let holdingScript = "trace \"Hi\" { for i in 0..<200 { save z[i] = ((zeros(4096, 4096) + i) @ (zeros(4096, 4096) + 1.0))[0, 0] } }\n"

/// A short probe: two layers' last-token residual on a four-token prompt.
let probeScript = """
param prompt: str = "The capital of France"
trace prompt {
    save early = model.layers[1].output[0, -1]
    save late = model.layers[3].output[0, -1]
}
"""

/// A server in this process on a loopback port, with its own SQLite store.
final class LiveServer: @unchecked Sendable {
    let server: ModelServer
    let url: String
    let dir: String
    let task: Task<Void, any Error>

    static func start(model: String, name: String = "m", store: String? = nil,
                      configure: (inout ServerConfiguration) -> Void = { _ in }) async throws -> LiveServer {
        let dir = try Paths.temporaryDirectory("serve")
        var config = ServerConfiguration()
        config.port = 0
        config.models = [(name, model)]
        config.store = store ?? dir + "/queue.sqlite"
        config.pollInterval = 0.02
        configure(&config)
        let server = try await ModelServer(config: config)
        let port = Locked<Int?>(nil)
        let task = Task { try await server.run { p in port.withLock { $0 = p } } }
        for _ in 0..<500 {
            if let p = port.withLock({ $0 }) {
                return LiveServer(server: server, url: "http://127.0.0.1:\(p)", dir: dir, task: task)
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        task.cancel()
        throw ClientError("the server did not start listening")
    }

    private init(server: ModelServer, url: String, dir: String, task: Task<Void, any Error>) {
        self.server = server
        self.url = url
        self.dir = dir
        self.task = task
    }

    func makeKey(_ name: String) async throws -> String {
        let key = APIKeys.generate()
        _ = try await server.store.createKey(name: name, hash: APIKeys.hash(key))
        return key
    }

    func stop() async {
        await server.shutdown()
        _ = await task.result
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// A raw request: status, headers (lowercased names) and body.
    func http(_ method: String, _ path: String, key: String? = nil, body: Data? = nil,
              headers: [String: String] = [:]) async throws -> (status: Int, headers: [String: String], body: Data) {
        var r = URLRequest(url: URL(string: url + path)!)
        r.httpMethod = method
        if let key { r.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        for (k, v) in headers { r.setValue(v, forHTTPHeaderField: k) }
        r.httpBody = body
        let (data, response) = try await URLSession.shared.data(for: r)
        let http = response as! HTTPURLResponse
        var h: [String: String] = [:]
        for (k, v) in http.allHeaderFields { h["\(k)".lowercased()] = "\(v)" }
        return (http.statusCode, h, data)
    }

    /// The `error.code` of a JSON error body.
    static func errorCode(_ body: Data) -> String? {
        (((try? JSONSerialization.jsonObject(with: body)) as? [String: Any])?["error"] as? [String: Any])?["code"] as? String
    }
}

func submitBody(_ object: [String: Any]) -> Data {
    try! JSONSerialization.data(withJSONObject: object)
}

/// Runs a child process to its end: exit status and stdout.
@discardableResult
func runProcess(_ path: String, _ args: [String], capture: Bool = true) throws -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    // A daemon (pg_ctl's server) would hold a captured stdout open forever.
    let out = Pipe()
    p.standardOutput = capture ? out : FileHandle.nullDevice
    if !capture { p.standardError = FileHandle.nullDevice }
    try p.run()
    let data = capture ? out.fileHandleForReading.readDataToEndOfFile() : Data()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// An `nsi serve` child process; its port from the line it prints.
final class ServeProcess: @unchecked Sendable {
    let process = Process()
    let url: String

    init(nsi: String, args: [String]) throws {
        process.executableURL = URL(fileURLWithPath: nsi)
        process.arguments = ["serve", "--port", "0"] + args
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        var line = Data()
        let handle = out.fileHandleForReading
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = handle.availableData
            if chunk.isEmpty { throw ClientError("nsi serve exited before it listened") }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let r = text.range(of: #"http://127\.0\.0\.1:\d+"#, options: .regularExpression) else { throw ClientError("unexpected first line: \(text)") }
        url = String(text[r])
    }

    func kill() {
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// The server's worker process (its child running `serve-worker`), if one runs.
    var workerPID: Int32? {
        let me = process.processIdentifier
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, Int32(fields[1]) == me, fields[0] != "Z" else { continue }
            return pid
        }
        return nil
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }
}

struct StillQueued: Error, CustomStringConvertible {
    let id: String
    var description: String { "job \(id) was still queued after 5 minutes" }
}

/// Waits until a job has left the queue: polls every 20 ms, and gives up with an error
/// (failing the test, not hanging it) after 5 minutes.
func waitWhileQueued(_ client: ServerClient, _ id: String) async throws {
    for _ in 0..<15_000 {
        guard try await client.job(id).state == "queued" else { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    throw StillQueued(id: id)
}

/// Requests that block their thread and never suspend: a test that must act within a
/// job's run time (see it running, then kill or cancel it) uses these, since an `await`
/// may resume minutes late while the whole suite holds this process's threads.
struct BlockingClient {
    let port: UInt16
    let key: String?

    init(url: String, key: String?) {
        port = UInt16(url.split(separator: ":").last!)!
        self.key = key
    }

    /// `GET path`: status and body, or nil.
    func get(_ path: String) -> (Int, Data)? { Self.request(port: port, method: "GET", path: path, key: key) }

    /// Submits a script: the job's id.
    func submit(_ script: String, name: String) throws -> String {
        let body = try JSONSerialization.data(withJSONObject: ["script": script, "name": name, "params": [String: String]()])
        let answer = Self.request(port: port, method: "POST", path: "/v1/jobs", key: key, body: body)
        guard let (status, data) = answer, status == 202,
              let job = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any], let id = job["id"] as? String else {
            throw ClientError("POST /v1/jobs failed for \(name): \(answer.map { "\($0.0) \(String(decoding: $0.1, as: UTF8.self))" } ?? "no answer")")
        }
        return id
    }

    func cancel(_ id: String) throws {
        guard let (status, _) = Self.request(port: port, method: "POST", path: "/v1/jobs/\(id)/cancel", key: key), status == 200 else {
            throw ClientError("POST /v1/jobs/\(id)/cancel failed")
        }
    }

    /// The job's state (`queued`, `running`, `completed`, ...).
    func state(_ id: String) throws -> String {
        guard let (status, body) = get("/v1/jobs/\(id)"), status == 200,
              let job = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any], let state = job["state"] as? String else {
            throw ClientError("GET /v1/jobs/\(id) failed")
        }
        return state
    }

    /// Returns once the job has left `queued` (it runs, or has ended).
    func waitWhileQueued(_ id: String) throws {
        for _ in 0..<15_000 {
            guard let (status, body) = get("/v1/jobs/\(id)"), status == 200,
                  let job = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any], let state = job["state"] as? String else {
                throw ClientError("GET /v1/jobs/\(id) failed")
            }
            if state != "queued" { return }
            usleep(20_000)
        }
        throw StillQueued(id: id)
    }

    /// Sends a request on a new loopback connection and resets the connection at once
    /// (SO_LINGER 0: an RST, not a FIN), before any answer: a client gone right after asking.
    static func requestAndReset(port: UInt16, path: String, key: String?) {
        guard let fd = connect(port: port, timeout: 1) else { return }
        let auth = key.map { "Authorization: Bearer \($0)\r\n" } ?? ""
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\(auth)\r\n".utf8)
        _ = request.withUnsafeBytes { write(fd, $0.baseAddress, request.count) }
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        close(fd)
    }

    /// A new blocking connection to a loopback port whose reads wait at most `timeout`
    /// seconds, or nil when it cannot connect.
    static func connect(port: UInt16, timeout: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var wait = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Foundation.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard ok == 0 else { close(fd); return nil }
        return fd
    }

    /// One request on a new loopback connection, blocking: status and body, or nil.
    static func request(port: UInt16, method: String, path: String, key: String? = nil, body: Data = Data()) -> (Int, Data)? {
        // Long enough for a submission compiled while the whole suite runs.
        guard let fd = connect(port: port, timeout: 60) else { return nil }
        defer { close(fd) }
        let auth = key.map { "Authorization: Bearer \($0)\r\n" } ?? ""
        let type = body.isEmpty ? "" : "Content-Type: application/json\r\n"
        let request = Array("\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\(auth)\(type)Content-Length: \(body.count)\r\nConnection: close\r\n\r\n".utf8) + Array(body)
        guard request.withUnsafeBytes({ write(fd, $0.baseAddress, request.count) }) == request.count else { return nil }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, 4096) }
            if n <= 0 { break }
            answer += buffer[0..<n]
        }
        guard answer.count > 12, let status = Int(String(decoding: answer[9..<12], as: UTF8.self)) else { return nil }
        let end = answer.indices.dropLast(3).first { answer[$0] == 13 && answer[$0 + 1] == 10 && answer[$0 + 2] == 13 && answer[$0 + 3] == 10 }
        var received = Data(answer[(end.map { $0 + 4 } ?? answer.count)...])
        // A chunked body: the chunks' data, their sizes dropped.
        if String(decoding: answer[0..<(end ?? 0)], as: UTF8.self).lowercased().contains("transfer-encoding: chunked") {
            var out = Data(), rest = received[...]
            while let lineEnd = rest.firstRange(of: Data([13, 10])), let size = Int(String(decoding: rest[rest.startIndex..<lineEnd.lowerBound], as: UTF8.self), radix: 16), size > 0 {
                out += rest[lineEnd.upperBound..<lineEnd.upperBound + size]
                rest = rest[(lineEnd.upperBound + size + 2)...]
            }
            received = out
        }
        return (status, received)
    }
}
