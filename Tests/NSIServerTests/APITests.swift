import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import NSIServer
import NSITestSupport

/// What the API refuses, on a server hosting a tiny model (nothing here runs a plan).
@Suite(.serialized) struct APITests {
    @Test func keysAreRequiredAndRevocable() async throws {
        let s = try await LiveServer.start(model: Paths.tiny)
        defer { Task { await s.stop() } }
        let missing = try await s.http("GET", "/v1/models")
        #expect(missing.status == 401)
        #expect(LiveServer.errorCode(missing.body) == "missing_key")
        let wrong = try await s.http("GET", "/v1/models", key: APIKeys.generate())
        #expect(wrong.status == 401)
        #expect(LiveServer.errorCode(wrong.body) == "unknown_key")
        let key = try await s.makeKey("alice")
        let ok = try await s.http("GET", "/v1/models", key: key)
        #expect(ok.status == 200)
        let models = try JSONSerialization.jsonObject(with: ok.body) as? [String: Any]
        let first = (models?["models"] as? [[String: Any]])?.first
        #expect(first?["name"] as? String == "m")
        #expect((first?["signature_hash"] as? String)?.isEmpty == false)
        #expect(try await s.server.store.revokeKey(name: "alice"))
        let revoked = try await s.http("GET", "/v1/models", key: key)
        #expect(revoked.status == 401)
        #expect(LiveServer.errorCode(revoked.body) == "revoked_key")
        // An error never names a key.
        #expect(!String(decoding: revoked.body, as: UTF8.self).contains("alice"))
        // The store keeps the hash, never the key.
        #expect(try await s.server.store.key(hash: APIKeys.hash(key))?.name == "alice")
        let health = try await s.http("GET", "/v1/health")
        #expect(health.status == 200)
    }

    /// The store holds every tenant's plans and results: only its owner reads the file. A
    /// revoked key's queued jobs are cancelled and its running ones asked to stop.
    @Test func theStoreIsPrivateAndRevocationStopsJobs() async throws {
        let dir = try Paths.temporaryDirectory("store")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLiteJobStore(path: dir + "/q.sqlite")
        try await store.migrate()
        let mode = try FileManager.default.attributesOfItem(atPath: dir + "/q.sqlite")[.posixPermissions] as? Int
        #expect(mode == 0o600, "mode \(String(mode ?? 0, radix: 8))")
        let key = try await store.createKey(name: "dave", hash: APIKeys.hash("d"))
        let queued = try await store.insert(NewJob(keyID: key.id, model: "m", name: "a.nsi", plan: Data([1]), params: [:]), maxActive: 8)
        let running = try await store.insert(NewJob(keyID: key.id, model: "m", name: "b.nsi", plan: Data([1]), params: [:]), maxActive: 8)
        _ = try await store.claim(model: "m", worker: "w", limit: 1, perKeyRunning: 8, leaseUntil: Date().addingTimeInterval(60), maxAttempts: 3)
        #expect(try await store.revokeKey(name: "dave"))
        let a = try await store.job(id: queued.id), b = try await store.job(id: running.id)
        #expect(a?.state == .running && a?.cancelRequested == true, "the claimed (first) job: \(String(describing: a?.state))")
        #expect(b?.state == .cancelled, "the queued job: \(String(describing: b?.state))")
    }

    @Test func rateLimitAnswers429WithRetryAfter() async throws {
        // One token per 50 s: no token comes back while the five requests run, however
        // slow the machine (at 0.5 per second, a loaded machine refilled one mid-test).
        let s = try await LiveServer.start(model: Paths.tiny) { c in
            c.requestsPerSecond = 0.02
            c.burst = 3
        }
        defer { Task { await s.stop() } }
        let key = try await s.makeKey("bob")
        var statuses: [Int] = []
        var retryAfter: String?
        for _ in 0..<5 {
            let r = try await s.http("GET", "/v1/models", key: key)
            statuses.append(r.status)
            if r.status == 429 { retryAfter = r.headers["retry-after"] }
        }
        #expect(statuses == [200, 200, 200, 429, 429])
        #expect(retryAfter.flatMap(Int.init).map { $0 >= 1 && $0 <= 50 } == true, "Retry-After: \(retryAfter ?? "none")")
        // Another key has its own bucket.
        let other = try await s.makeKey("carol")
        #expect(try await s.http("GET", "/v1/models", key: other).status == 200)
        // Metrics need a key (unless the server is started with --public-metrics).
        #expect(try await s.http("GET", "/v1/metrics").status == 401)
        let metrics = String(decoding: try await s.http("GET", "/v1/metrics", key: other).body, as: UTF8.self)
        #expect(metrics.contains("nsi_rate_limited_total 2"))
    }

    @Test func oversizedAndMalformedRequestsAreRefusedBeforeQueueing() async throws {
        let s = try await LiveServer.start(model: Paths.tiny) { c in c.maxBodyBytes = 4096 }
        defer { Task { await s.stop() } }
        let key = try await s.makeKey("dave")
        let big = submitBody(["script": String(repeating: "# padding\n", count: 1000)])
        let tooLarge = try await s.http("POST", "/v1/jobs", key: key, body: big)
        #expect(tooLarge.status == 413)
        #expect(LiveServer.errorCode(tooLarge.body) == "too_large")

        let notJSON = try await s.http("POST", "/v1/jobs", key: key, body: Data("{not json".utf8))
        #expect(notJSON.status == 400)
        #expect(LiveServer.errorCode(notJSON.body) == "bad_json")

        let both = try await s.http("POST", "/v1/jobs", key: key, body: submitBody(["script": "x", "plan": "AAAA"]))
        #expect(both.status == 400)

        let notBase64 = try await s.http("POST", "/v1/jobs", key: key, body: submitBody(["plan": "***"]))
        #expect(notBase64.status == 400)
        #expect(LiveServer.errorCode(notBase64.body) == "bad_plan")

        // Bytes that are no plan: the verifier's message, and nothing queued.
        let garbage = try await s.http("POST", "/v1/jobs", key: key, body: submitBody(["plan": Data("NSIB garbage bytes".utf8).base64EncodedString()]))
        #expect(garbage.status == 422)
        #expect(LiveServer.errorCode(garbage.body) == "rejected")
        #expect(String(decoding: garbage.body, as: UTF8.self).contains("does not verify"))

        let badScript = try await s.http("POST", "/v1/jobs", key: key, body: submitBody(["script": "trace \"x\" { save y = model.nope }", "name": "bad.nsi"]))
        #expect(badScript.status == 422)
        #expect(String(decoding: badScript.body, as: UTF8.self).contains("bad.nsi"))

        let load = try await s.http("POST", "/v1/jobs", key: key, body: submitBody(["script": "param w: tensor[model.hidden_size] = (load\n(\"/etc/secret.safetensors\", \"w\"))\ntrace \"x\" { model.layers[0].output += w }\n"]))
        #expect(load.status == 422)
        #expect(String(decoding: load.body, as: UTF8.self).contains("E0323"))

        let wrongModel = try await s.http("POST", "/v1/jobs", key: key, body: submitBody(["script": "x", "model": "gpt-9"]))
        #expect(wrongModel.status == 404)

        #expect(try await s.server.store.countsByState().values.reduce(0, +) == 0)
        let unknownJob = try await s.http("GET", "/v1/jobs/does-not-exist", key: key)
        #expect(unknownJob.status == 404)
        #expect(LiveServer.errorCode(unknownJob.body) == "no_such_job")
    }

    /// A connection that sends half a request head, or nothing, is closed after the read
    /// timeout, and the server goes on answering. (The socket waits at most 30 s for the
    /// close, a bound on the test, not a timing claimed.)
    @Test func slowConnectionsAreClosed() async throws {
        let s = try await LiveServer.start(model: Paths.tiny) { c in c.readTimeout = 0.3 }
        defer { Task { await s.stop() } }
        let port = UInt16(s.url.split(separator: ":").last!)!
        func connect() throws -> Int32 {
            try #require(BlockingClient.connect(port: port, timeout: 30), "cannot connect")
        }
        /// What a read gets: 0 when the server closed the connection.
        func readResult(_ fd: Int32) -> Int {
            var buffer = [UInt8](repeating: 0, count: 4096)
            return buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, 4096) }
        }
        let half = try connect(), silent = try connect()
        defer { close(half); close(silent) }
        let head = Array("GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".utf8)
        #expect(head.withUnsafeBytes { write(half, $0.baseAddress, head.count) } == head.count)
        #expect(readResult(half) == 0, "a half-sent head is still held open")
        #expect(readResult(silent) == 0, "a silent connection is still held open")
        #expect(try await s.http("GET", "/v1/health").status == 200)
    }

    /// Every route the server registers is in the OpenAPI document it serves, and
    /// docs/openapi.yaml is that document, written from it (NSI_RECORD_GOLDEN=1 rewrites it).
    @Test func openAPIDescribesEveryRoute() async throws {
        if let failure = Golden.compare(OpenAPIDocument.yaml, with: Paths.root.appendingPathComponent("docs/openapi.yaml")) {
            Issue.record(Comment(rawValue: failure))
        }
        let doc = OpenAPIDocument.yaml
        let s = try await LiveServer.start(model: Paths.tiny)
        defer { Task { await s.stop() } }
        let served = try await s.http("GET", "/v1/openapi.yaml")
        #expect(String(decoding: served.body, as: UTF8.self) == doc)
        let routes = s.server.routeList()
        #expect(routes.count >= 12)
        for route in routes {
            let parts = route.split(separator: " ")
            let method = parts[0].lowercased()
            let path = parts[1].split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
            guard let at = doc.range(of: "\n  /\(path):\n") else {
                Issue.record("\(route): path /\(path) is not in docs/openapi.yaml")
                continue
            }
            let rest = doc[at.upperBound...]
            let block = rest.prefix(upTo: rest.range(of: "\n  /")?.lowerBound ?? rest.range(of: "\ncomponents:")!.lowerBound)
            #expect(("\n" + block).contains("\n    \(method):"), "\(route) has no \(method) in docs/openapi.yaml")
        }
    }

    @Test func durationsAndSizes() {
        #expect(parseDuration("24h") == 86400)
        #expect(parseDuration("500ms") == 0.5)
        #expect(parseDuration("30m") == 1800)
        #expect(parseDuration("-1") == nil)
        #expect(parseByteSize("4MB") == 4 << 20)
        #expect(parseByteSize("12") == 12)
        #expect(parseByteSize("x") == nil)
        #expect(parseCount("100T") == 1e14)
        #expect(parseCount("500G") == 5e11)
        #expect(parseCount("2e12") == 2e12)
        #expect(parseCount("0") == 0)
        for bad in ["-5T", "12Q", "inf", "nanG", "", "T"] { #expect(parseCount(bad) == nil, "\(bad)") }
    }
}
