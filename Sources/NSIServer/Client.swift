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
    public struct Job: Decodable, Sendable, Equatable {
        public var id: String
        public var model: String
        public var name: String
        public var state: String
        public var position: Int?
        public var progress: String?
        public var error: String?
        public var batchSize: Int?
        public var worker: String?
        public var attempts: Int?
        public var isFinal: Bool { ["completed", "failed", "cancelled"].contains(state) }
    }

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

    /// The job's `status` events.
    public func events(_ id: String) -> AsyncThrowingStream<Job, any Error> {
        AsyncThrowingStream { continuation in
            let delegate = EventStreamDelegate(continuation: continuation)
            let session = URLSession(configuration: .ephemeral, delegate: delegate, delegateQueue: nil)
            var r = request("GET", "/v1/jobs/\(id)/events", accept: "text/event-stream")
            r.timeoutInterval = 3600
            let task = session.dataTask(with: r)
            continuation.onTermination = { _ in
                task.cancel()
                session.finishTasksAndInvalidate()
            }
            task.resume()
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

/// Reads `text/event-stream` chunks into status events.
final class EventStreamDelegate: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    let continuation: AsyncThrowingStream<ServerClient.Job, any Error>.Continuation
    private var buffer = Data()
    private var status: Int?
    private var errorBody = Data()
    private let lock = NSLock()

    init(continuation: AsyncThrowingStream<ServerClient.Job, any Error>.Continuation) {
        self.continuation = continuation
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        lock.withLock { status = (response as? HTTPURLResponse)?.statusCode }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        lock.lock()
        defer { lock.unlock() }
        guard status == 200 else { errorBody.append(data); return }
        buffer.append(data)
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
            continuation.yield(job)
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        lock.lock()
        defer { lock.unlock() }
        if let status, status != 200 {
            continuation.finish(throwing: ClientError(status: status, body: errorBody, retryAfter: nil))
        } else if let error {
            continuation.finish(throwing: error)
        } else {
            continuation.finish()
        }
        session.finishTasksAndInvalidate()
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
