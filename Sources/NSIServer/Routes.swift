import NSIClient
import Foundation
import Hummingbird
import NSIZstd

/// What `POST /v1/jobs` takes: a script's text or a plan's bytes (base64), for a model, with params.
struct SubmitRequest: Decodable {
    var model: String?
    var script: String?
    var plan: String?
    var name: String?
    var params: [String: String]?
}

/// Counts every answer by status for /v1/metrics.
struct CountingMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: Metrics
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            let response = try await next(request, context)
            metrics.request(status: response.status.code)
            return response
        } catch let e as any HTTPResponseError {
            metrics.request(status: e.status.code)
            throw e
        } catch {
            metrics.request(status: 500)
            throw error
        }
    }
}

/// `GET /v1/health`.
struct Health: Encodable {
    var status: String
    var worker: String
    var models: [String]
}

extension ModelServer {
    func addRoutes(to router: Router<BasicRequestContext>) {
        router.add(middleware: CountingMiddleware(metrics: metrics))
        router.get("/v1/health") { _, _ in
            Self.json(JSONText.encode(Health(status: "ok", worker: self.config.workerID, models: self.modelOrder)))
        }
        router.get("/v1/metrics") { request, _ in
            if !self.config.publicMetrics { _ = try await self.authenticate(request) }
            let counts = try await self.store.countsByState()
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                            body: .init(byteBuffer: ByteBuffer(string: self.metrics.render(jobs: counts, models: self.modelOrder))))
        }
        router.get("/v1/openapi.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.yaml)))
        }
        router.get("/v1/models") { request, _ in
            _ = try await self.authenticate(request)
            return Self.json("{\"models\":[" + self.modelOrder.map { self.modelJSON($0) }.joined(separator: ",") + "]}")
        }
        router.get("/v1/models/:name") { request, context in
            _ = try await self.authenticate(request)
            let name = try context.parameters.require("name")
            guard self.models[name] != nil else { throw APIError(.notFound, "no_such_model", "this server hosts no model named \(name); it hosts \(self.modelOrder.joined(separator: ", "))") }
            return Self.json(self.modelJSON(name))
        }
        router.post("/v1/jobs") { request, _ in try await self.submit(request) }
        router.get("/v1/jobs/:id") { request, context in
            let key = try await self.authenticate(request)
            let job = try await self.ownedJob(try context.parameters.require("id"), key: key)
            return Self.json(JSONText.encode(try await self.status(job)))
        }
        router.get("/v1/jobs/:id/events") { request, context in
            let key = try await self.authenticate(request)
            let job = try await self.ownedJob(try context.parameters.require("id"), key: key)
            // Open streams per key are bounded: each holds a connection and a task.
            let admitted = self.openStreams.withLock { open -> Bool in
                guard open[key.id, default: 0] < self.config.maxStreamsPerKey else { return false }
                open[key.id, default: 0] += 1
                return true
            }
            guard admitted else {
                throw APIError(.tooManyRequests, "too_many_streams", "this key has \(self.config.maxStreamsPerKey) event streams open; close one or poll the job",
                               headers: [.retryAfter: "5"])
            }
            return self.events(job.id, place: StreamPlace { self.openStreams.withLock { $0[key.id, default: 1] -= 1 } })
        }
        router.post("/v1/jobs/:id/cancel") { request, context in try await self.cancel(request, context) }
        router.delete("/v1/jobs/:id") { request, context in try await self.cancel(request, context) }
        router.get("/v1/jobs/:id/results") { request, context in
            let key = try await self.authenticate(request)
            let job = try await self.ownedJob(try context.parameters.require("id"), key: key)
            let results = try await self.finishedResults(job)
            let query = request.uri.queryParameters
            let acceptsZstd = request.headers[.acceptEncoding]?.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces).hasPrefix("zstd") } ?? false
            if let c = query["compress"], c != "zstd" && c != "none" {
                throw APIError(.badRequest, "bad_compress", "compress takes zstd or none, not \(c)")
            }
            var headers: HTTPFields = [.contentType: "application/octet-stream",
                                       .contentDisposition: "attachment; filename=\"\(job.id).safetensors\""]
            var body = results.safetensors
            if query["compress"] == "zstd" {
                body = try Zstd.compress(body)
                headers[.contentType] = "application/zstd"
                headers[.contentDisposition] = "attachment; filename=\"\(job.id).safetensors.zst\""
            } else if acceptsZstd && query["compress"] != "none" {
                body = try Zstd.compress(body)
                headers[.contentEncoding] = "zstd"
            }
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        router.get("/v1/jobs/:id/results.json") { request, context in
            let key = try await self.authenticate(request)
            let job = try await self.ownedJob(try context.parameters.require("id"), key: key)
            return Self.json(try await self.finishedResults(job).sidecar)
        }
    }

    static func json(_ text: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var h = headers
        h[.contentType] = "application/json"
        return Response(status: status, headers: h, body: .init(byteBuffer: ByteBuffer(string: text.hasSuffix("\n") ? text : text + "\n")))
    }

    func modelJSON(_ name: String) -> String {
        let m = models[name]!
        return "{\"name\":\(JSONText.quote(name)),\"signature_hash\":\(JSONText.quote(m.signature.hash)),\"signature\":\(m.signature.json().trimmingCharacters(in: .whitespacesAndNewlines))}"
    }

    /// The key of `Authorization: Bearer KEY`: 401 when missing, unknown or revoked; 429 past the key's rate.
    func authenticate(_ request: Request) async throws -> KeyRecord {
        guard let header = request.headers[.authorization] else {
            throw APIError(.unauthorized, "missing_key", "this request needs an API key: Authorization: Bearer KEY", headers: [.wwwAuthenticate: "Bearer"])
        }
        guard header.hasPrefix("Bearer "), case let token = header.dropFirst("Bearer ".count).trimmingCharacters(in: .whitespaces), !token.isEmpty else {
            throw APIError(.unauthorized, "bad_authorization", "the Authorization header must be Bearer KEY", headers: [.wwwAuthenticate: "Bearer"])
        }
        guard let key = try await store.key(hash: APIKeys.hash(token)) else {
            throw APIError(.unauthorized, "unknown_key", "this API key is not known to the server", headers: [.wwwAuthenticate: "Bearer"])
        }
        guard key.revokedAt == nil else {
            throw APIError(.unauthorized, "revoked_key", "this API key was revoked", headers: [.wwwAuthenticate: "Bearer"])
        }
        if let wait = limiter.take(key.id) {
            metrics.rateLimited()
            throw APIError(.tooManyRequests, "rate_limited", "too many requests for this key; retry after \(wait) s",
                           headers: [.retryAfter: String(wait)])
        }
        return key
    }

    func ownedJob(_ id: String, key: KeyRecord) async throws -> JobRecord {
        // Another key's job is as absent as a job that never was.
        guard id.count <= 64, let job = try await store.job(id: id), job.keyID == key.id else {
            throw APIError(.notFound, "no_such_job", "no job \(id.prefix(64)) for this key")
        }
        return job
    }

    func status(_ job: JobRecord) async throws -> JobStatus {
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return JobStatus(id: job.id, model: job.model, name: job.name, state: job.state.rawValue,
                         position: job.state == .queued ? try await store.queuePosition(id: job.id) : nil,
                         progress: job.state == .running ? job.progress : nil, error: job.error, errorKind: job.errorKind,
                         createdAt: iso.string(from: job.createdAt), startedAt: job.startedAt.map(iso.string),
                         finishedAt: job.finishedAt.map(iso.string), batchSize: job.batchSize,
                         results: job.hasResults ? "/v1/jobs/\(job.id)/results" : nil,
                         resultsExpired: job.resultsExpired ? true : nil,
                         worker: job.state == .queued ? nil : job.worker, attempts: job.attempts)
    }

    func finishedResults(_ job: JobRecord) async throws -> StoredResults {
        guard job.state == .completed else {
            throw APIError(.conflict, "not_completed", "job \(job.id) is \(job.state.rawValue)" + (job.error.map { ": \($0)" } ?? ""))
        }
        guard !job.resultsExpired, let results = try await store.results(id: job.id) else {
            throw APIError(.gone, "results_expired", "the results of job \(job.id) were kept for \(Int(config.keepResults)) s and are gone")
        }
        return results
    }

    func submit(_ request: Request) async throws -> Response {
        let key = try await authenticate(request)
        if let length = request.headers[.contentLength].flatMap(Int.init), length > config.maxBodyBytes {
            throw APIError(.contentTooLarge, "too_large", "the request has \(length) bytes; this server takes at most \(config.maxBodyBytes)")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: config.maxBodyBytes)
        } catch {
            throw APIError(.contentTooLarge, "too_large", "the request is larger than this server takes (\(config.maxBodyBytes) bytes)")
        }
        let body: SubmitRequest
        do {
            body = try JSONDecoder().decode(SubmitRequest.self, from: Data(buffer: buffer))
        } catch {
            throw APIError(.badRequest, "bad_json", "the body must be a JSON object {model, script | plan (base64), name, params}: \(Self.describe(error))")
        }
        guard let modelName = body.model ?? (modelOrder.count == 1 ? modelOrder[0] : nil) else {
            throw APIError(.badRequest, "no_model", "this server hosts several models (\(modelOrder.joined(separator: ", "))); name one in \"model\"")
        }
        guard let model = models[modelName] else {
            throw APIError(.notFound, "no_such_model", "this server hosts no model named \(modelName); it hosts \(modelOrder.joined(separator: ", "))")
        }
        let params = body.params ?? [:]
        let name = String((body.name ?? (body.script != nil ? "script.nsi" : "plan.nsb")).prefix(256))
        let plan: Data
        var runParams: [String: String] = [:]
        let limits = config.jobLimits, maxFLOPs = config.maxFLOPs
        switch (body.script, body.plan) {
        case (let script?, nil):
            plan = try await Self.offLoop { () throws(PlanRejection) -> Data in
                try PlanRunner.compile(source: script, name: name, params: params, model: model, limits: limits, maxFLOPs: maxFLOPs)
            }
        case (nil, let encoded?):
            guard let bytes = Data(base64Encoded: encoded, options: .ignoreUnknownCharacters) else {
                throw APIError(.badRequest, "bad_plan", "\"plan\" must be the plan's bytes in base64")
            }
            try await Self.offLoop { () throws(PlanRejection) -> Void in
                let program = try PlanRunner.verify(bytes, for: model)
                _ = try PlanRunner.bind(program, params: params)
                try PlanRunner.admit(program, params: params, model: model, limits: limits, maxFLOPs: maxFLOPs)
            }
            plan = bytes
            runParams = params
        default:
            throw APIError(.badRequest, "bad_request", "give exactly one of \"script\" (the text) and \"plan\" (base64 bytes)")
        }
        let stored = try await store.storedBytes(keyID: key.id)
        guard stored < config.maxStoredBytesPerKey else {
            throw APIError(.tooManyRequests, "storage_quota_exceeded",
                           "this key's results hold \(stored) bytes in the store, at or past its limit of \(config.maxStoredBytesPerKey); they leave \(Int(config.keepResults)) s after their jobs end",
                           headers: [.retryAfter: "60"])
        }
        let job: JobRecord
        do {
            job = try await store.insert(NewJob(keyID: key.id, model: modelName, name: name, plan: plan, params: runParams), maxActive: config.maxActivePerKey)
            signal.bump()
        } catch let e as JobStoreError {
            throw APIError(.tooManyRequests, "quota_exceeded", e.description, headers: [.retryAfter: "5"])
        }
        return Self.json(JSONText.encode(try await status(job)), status: .accepted, headers: [.location: "/v1/jobs/\(job.id)"])
    }

    /// Compiling and verifying are CPU work: off the event loop, with the rejection as a 422.
    static func offLoop<T: Sendable>(_ body: @escaping @Sendable () throws(PlanRejection) -> T) async throws -> T {
        let result: Result<T, PlanRejection> = await withCheckedContinuation { c in
            DispatchQueue.global().async { c.resume(returning: Result(catching: body)) }
        }
        switch result {
        case .success(let v): return v
        case .failure(let e): throw APIError(.unprocessableContent, "rejected", e.description)
        }
    }

    func cancel(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let key = try await authenticate(request)
        let id = try context.parameters.require("id")
        guard id.count <= 64, let job = try await store.cancel(id: id, keyID: key.id) else {
            throw APIError(.notFound, "no_such_job", "no job \(id.prefix(64)) for this key")
        }
        signal.bump()
        return Self.json(JSONText.encode(try await status(job)))
    }

    /// Server-sent events: a `status` event whenever the state, queue position or progress
    /// changes, ending after a final state. The store is read when this server changed a
    /// job (`JobSignal`), and every 2 s in any case (another server of a shared queue may
    /// have), not on every tick.
    func events(_ id: String, place: StreamPlace) -> Response {
        Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: .init { writer in
            defer { place.giveBack() }
            var last = ""
            var quiet = Date()
            var seen = -1
            var lastRead = Date.distantPast
            while !Task.isCancelled {
                let version = self.signal.version
                if version == seen && Date().timeIntervalSince(lastRead) < 2 {
                    try await Task.sleep(for: .milliseconds(50))
                    continue
                }
                seen = version
                lastRead = Date()
                guard let job = try await self.store.job(id: id) else { break }
                let text = JSONText.encode(try await self.status(job))
                if text != last {
                    try await writer.write(ByteBuffer(string: "event: status\ndata: \(text)\n\n"))
                    last = text
                    quiet = Date()
                } else if Date().timeIntervalSince(quiet) > 15 {
                    try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                    quiet = Date()
                }
                if job.state.isFinal { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            try await writer.finish(nil)
        })
    }

    /// An admitted event stream's place in its key's count, given back exactly once: when
    /// the stream ends, or when its response is dropped unwritten (a client that reset the
    /// connection right after asking: the body never runs). Its deinit is the last exit.
    final class StreamPlace: @unchecked Sendable {
        private let lock = NSLock()
        private var release: (@Sendable () -> Void)?

        init(_ release: @escaping @Sendable () -> Void) { self.release = release }

        func giveBack() {
            let r = lock.withLock { () -> (@Sendable () -> Void)? in
                defer { release = nil }
                return release
            }
            r?()
        }

        deinit { giveBack() }
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
            return "at \(c.codingPath.map(\.stringValue).joined(separator: ".")): \(c.debugDescription)"
        case DecodingError.dataCorrupted(let c): return c.debugDescription
        case DecodingError.keyNotFound(let k, _): return "missing \(k.stringValue)"
        default: return "\(error)"
        }
    }
}
