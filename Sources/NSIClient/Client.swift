import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import NSIZstd

/// A client of the model server's HTTP API, used by `nsi submit`, the tests and the load
/// benchmark. Status comes as server-sent events; when the stream breaks, the client polls.
public final class ServerClient: Sendable {
    public let base: URL
    public let key: String?
    let session: URLSession

    public init(server: String, key: String?) throws {
        guard let url = URL(string: server.hasSuffix("/") ? String(server.dropLast()) : server), url.scheme == "http" || url.scheme == "https" else {
            throw ClientError("--server takes an http:// or https:// URL, not \(server)")
        }
        base = url
        self.key = key
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = 600
        session = URLSession(configuration: config)
    }

    /// A job as the server reports it.
    public typealias Job = JobStatus

    static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        return d
    }()

    func request(_ method: String, _ path: String, body: Data? = nil, accept: String? = nil) -> URLRequest {
        var r = URLRequest(url: URL(string: base.absoluteString + path)!)
        r.httpMethod = method
        if let key { r.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        if let body {
            r.httpBody = body
            r.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        if let accept { r.setValue(accept, forHTTPHeaderField: "Accept") }
        return r
    }

    /// The body of a 2xx answer; any other status is a `ClientError` with the server's message.
    public func send(_ method: String, _ path: String, body: Data? = nil) async throws -> (Data, HTTPURLResponse) {
        let (data, response) = try await session.data(for: request(method, path, body: body))
        guard let http = response as? HTTPURLResponse else { throw ClientError("no HTTP answer from \(base)") }
        guard (200..<300).contains(http.statusCode) else {
            throw ClientError(status: http.statusCode, body: data, retryAfter: http.value(forHTTPHeaderField: "Retry-After").flatMap(Int.init))
        }
        return (data, http)
    }

    /// Submits a script's text or a plan's bytes. A 429 for the key's rate is waited out
    /// (Retry-After) up to `retries` times.
    public func submit(script: String? = nil, plan: Data? = nil, name: String, model: String?, params: [String: String], retries: Int = 20) async throws -> Job {
        var object: [String: Any] = ["name": name, "params": params]
        if let script { object["script"] = script }
        if let plan { object["plan"] = plan.base64EncodedString() }
        if let model { object["model"] = model }
        let body = try JSONSerialization.data(withJSONObject: object)
        var attempt = 0
        while true {
            do {
                let (data, _) = try await send("POST", "/v1/jobs", body: body)
                return try Self.decoder.decode(Job.self, from: data)
            } catch let e as ClientError where e.status == 429 && attempt < retries {
                attempt += 1
                try await Task.sleep(for: .seconds(Double(e.retryAfter ?? 1)))
            }
        }
    }

    public func job(_ id: String) async throws -> Job {
        try Self.decoder.decode(Job.self, from: try await send("GET", "/v1/jobs/\(id)").0)
    }

    public func cancel(_ id: String) async throws -> Job {
        try Self.decoder.decode(Job.self, from: try await send("POST", "/v1/jobs/\(id)/cancel").0)
    }

    /// Follows a job to its final state, calling `onChange` on each new status: by
    /// server-sent events, or by polling every `pollInterval` when the stream fails.
    public func follow(_ id: String, stream: Bool = true, pollInterval: Double = 0.25, onChange: @Sendable (Job) -> Void = { _ in }) async throws -> Job {
        var last: Job?
        if stream {
            do {
                for try await job in events(id) {
                    if job != last { onChange(job) }
                    last = job
                    if job.isFinal { return job }
                }
            } catch let e as ClientError where e.status != nil {
                throw e
            } catch {
                // The stream broke; polling goes on from here.
            }
        }
        while true {
            let job = try await self.job(id)
            if job != last { onChange(job) }
            last = job
            if job.isFinal { return job }
            try await Task.sleep(for: .seconds(pollInterval))
        }
    }

    /// The job's `status` events, read from a plain socket (http:// servers; over
    /// https:// the stream fails at once and `follow` polls). URLSession is not used for
    /// the stream: on Linux it keeps a core busy while a streamed answer waits for data.
    public func events(_ id: String) -> AsyncThrowingStream<Job, any Error> {
        AsyncThrowingStream { continuation in
            guard base.scheme == "http", let host = base.host else {
                continuation.finish(throwing: ClientError("event streams are read over http:// only"))
                return
            }
            let socket = EventSocket(host: host, port: base.port ?? 80)
            let headers = ["Accept: text/event-stream"] + (key.map { ["Authorization: Bearer \($0)"] } ?? [])
            let path = base.path + "/v1/jobs/\(id)/events"
            continuation.onTermination = { _ in socket.close() }
            Thread.detachNewThread {
                socket.read(path: path, headers: headers, continuation: continuation)
            }
        }
    }

    /// The results file (fetched zstd-compressed) and its JSON sidecar.
    public func results(_ id: String) async throws -> (safetensors: Data, sidecar: Data) {
        let (compressed, _) = try await send("GET", "/v1/jobs/\(id)/results?compress=zstd")
        let data = try Zstd.decompress(compressed)
        let (sidecar, _) = try await send("GET", "/v1/jobs/\(id)/results.json")
        return (data, sidecar)
    }

    /// Writes the results as `nsi run --out` does: the file and its .json sidecar, each
    /// written beside its target and renamed into place.
    public static func write(results: Data, sidecar: Data, to path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        try results.write(to: URL(fileURLWithPath: path), options: .atomic)
        try sidecar.write(to: URL(fileURLWithPath: (path as NSString).deletingPathExtension + ".json"), options: .atomic)
    }
}

/// Splits `text/event-stream` text into `status` events.
struct EventParser {
    private var buffer = Data()

    mutating func feed(_ data: Data) -> [ServerClient.Job] {
        buffer.append(data)
        var jobs: [ServerClient.Job] = []
        // Events end with a blank line.
        while let end = buffer.firstRange(of: Data("\n\n".utf8)) {
            let event = String(decoding: buffer[buffer.startIndex..<end.lowerBound], as: UTF8.self)
            buffer.removeSubrange(buffer.startIndex..<end.upperBound)
            var name = "message"
            var payload: [String] = []
            for line in event.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix("event:") { name = line.dropFirst(6).trimmingCharacters(in: .whitespaces) }
                if line.hasPrefix("data:") { payload.append(String(line.dropFirst(5)).trimmingCharacters(in: .whitespaces)) }
            }
            guard name == "status", !payload.isEmpty,
                  let job = try? ServerClient.decoder.decode(ServerClient.Job.self, from: Data(payload.joined(separator: "\n").utf8)) else { continue }
            jobs.append(job)
        }
        return jobs
    }
}

/// One HTTP/1.1 GET whose answer is read as it arrives (chunked or not), on a blocking
/// socket in its own thread; `close()` from any thread ends it.
final class EventSocket: @unchecked Sendable {
    let host: String
    let port: Int
    private let lock = NSLock()
    private var fd: Int32 = -1
    private var closed = false

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    func close() {
        lock.withLock {
            closed = true
            if fd >= 0 { _ = shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }

    func read(path: String, headers: [String], continuation: AsyncThrowingStream<ServerClient.Job, any Error>.Continuation) {
        do {
            let fd = try connect()
            defer {
                lock.withLock { self.fd = -1 }
                _ = Foundation.close(fd)
            }
            let request = (["GET \(path) HTTP/1.1", "Host: \(host):\(port)", "Connection: close"] + headers).joined(separator: "\r\n") + "\r\n\r\n"
            try send(fd, Data(request.utf8))
            var reader = Reader(fd: fd)
            let statusLine = try reader.line()
            let parts = statusLine.split(separator: " ")
            guard parts.count >= 2, let status = Int(parts[1]) else { throw ClientError("not an HTTP answer: \(statusLine)") }
            var chunked = false
            while true {
                let line = try reader.line()
                if line.isEmpty { break }
                if line.lowercased().hasPrefix("transfer-encoding:") && line.lowercased().contains("chunked") { chunked = true }
            }
            var parser = EventParser()
            var errorBody = Data()
            func deliver(_ data: Data) {
                if status == 200 {
                    for job in parser.feed(data) { continuation.yield(job) }
                } else {
                    errorBody.append(data)
                }
            }
            if chunked {
                while true {
                    let sizeLine = try reader.line()
                    guard let size = Int(sizeLine.split(separator: ";").first.map(String.init) ?? "", radix: 16) else {
                        throw ClientError("bad chunk size in the event stream: \(sizeLine)")
                    }
                    if size == 0 { break }
                    deliver(try reader.bytes(size))
                    _ = try reader.line()
                }
            } else {
                while let data = try reader.available() { deliver(data) }
            }
            if status != 200 {
                continuation.finish(throwing: ClientError(status: status, body: errorBody, retryAfter: nil))
            } else {
                continuation.finish()
            }
        } catch {
            continuation.finish(throwing: error)
        }
    }

    private func connect() throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else {
            throw ClientError("cannot resolve \(host)")
        }
        defer { freeaddrinfo(list) }
        var ai: UnsafeMutablePointer<addrinfo>? = first
        while let a = ai {
            let fd = socket(a.pointee.ai_family, a.pointee.ai_socktype, a.pointee.ai_protocol)
            if fd >= 0 {
                if Foundation.connect(fd, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0 {
                    let ok = lock.withLock { () -> Bool in
                        if closed { return false }
                        self.fd = fd
                        return true
                    }
                    if ok { return fd }
                    _ = Foundation.close(fd)
                    throw CancellationError()
                }
                _ = Foundation.close(fd)
            }
            ai = a.pointee.ai_next
        }
        throw ClientError("cannot connect to \(host):\(port)")
    }

    private func send(_ fd: Int32, _ data: Data) throws {
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var sent = 0
            while sent < raw.count {
                let n = Foundation.send(fd, raw.baseAddress! + sent, raw.count - sent, 0)
                guard n > 0 else { throw ClientError("the connection to \(host):\(port) closed while sending") }
                sent += n
            }
        }
    }

    /// Buffered reads of lines (CRLF) and byte counts from a socket.
    struct Reader {
        let fd: Int32
        var buffer = Data()

        /// More bytes, or nil at the end of the stream.
        mutating func fill() throws -> Bool {
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = recv(fd, &chunk, chunk.count, 0)
            if n < 0 { throw ClientError("reading the event stream failed (errno \(errno))") }
            if n == 0 { return false }
            buffer.append(contentsOf: chunk[0..<n])
            return true
        }

        mutating func line() throws -> String {
            while true {
                if let end = buffer.firstRange(of: Data("\r\n".utf8)) {
                    let text = String(decoding: buffer[buffer.startIndex..<end.lowerBound], as: UTF8.self)
                    buffer.removeSubrange(buffer.startIndex..<end.upperBound)
                    return text
                }
                guard try fill() else { throw ClientError("the event stream ended early") }
            }
        }

        mutating func bytes(_ count: Int) throws -> Data {
            while buffer.count < count {
                guard try fill() else { throw ClientError("the event stream ended early") }
            }
            let out = Data(buffer.prefix(count))
            buffer.removeFirst(count)
            return out
        }

        mutating func available() throws -> Data? {
            if buffer.isEmpty { guard try fill() else { return nil } }
            defer { buffer.removeAll() }
            return buffer
        }
    }
}

/// An error of the client: the server's status and message, or a local failure.
public struct ClientError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public let status: Int?
    public let code: String?
    public let retryAfter: Int?

    public init(_ message: String) {
        description = message
        status = nil
        code = nil
        retryAfter = nil
    }

    init(status: Int, body: Data, retryAfter: Int?) {
        self.status = status
        self.retryAfter = retryAfter
        let error = ((try? JSONSerialization.jsonObject(with: body)) as? [String: Any])?["error"] as? [String: Any]
        code = error?["code"] as? String
        let message = error?["message"] as? String ?? String(decoding: body.prefix(500), as: UTF8.self)
        description = "server answered \(status): \(message)"
    }
}
