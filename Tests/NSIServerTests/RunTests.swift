import NSI
import NSIClient
import Foundation
import Testing
import NSITensor
@testable import NSICLI
@testable import NSIServer

/// Real server, real client, the real model: what a client downloads is what `nsi run` writes.
@Suite(.serialized, .enabled(if: Paths.smollm != nil, "models/smollm2-135m not fetched"))
struct RunTests {
    @Test func submitStreamsStatusAndDownloadsWhatRunWrites() async throws {
        let s = try await LiveServer.start(model: Paths.smollm!, name: "smollm2-135m")
        defer { Task { await s.stop() } }
        let key = try await s.makeKey("alice")
        let dir = s.dir
        let script = dir + "/probe.nsi"
        try probeScript.write(toFile: script, atomically: true, encoding: .utf8)

        try await SubmitCommand.parse([script, "--server", s.url, "--key", key, "--out", dir + "/remote.safetensors", "--quiet",
                                       "--param", "prompt=Paris is the capital of"]).run()
        try RunCommand.parse([script, "--model", Paths.smollm!, "--out", dir + "/local.safetensors", "--quiet",
                              "--param", "prompt=Paris is the capital of"]).run()
        let remote = try Data(contentsOf: URL(fileURLWithPath: dir + "/remote.safetensors"))
        let local = try Data(contentsOf: URL(fileURLWithPath: dir + "/local.safetensors"))
        #expect(remote == local, "the results files differ")
        let a = try SafetensorsFile(path: dir + "/remote.safetensors")
        #expect(a.names.sorted() == ["early", "late"])
        let sidecarRemote = try String(contentsOfFile: dir + "/remote.json", encoding: .utf8)
        let sidecarLocal = try String(contentsOfFile: dir + "/local.json", encoding: .utf8)
        let tokenLine = sidecarLocal.split(separator: ",").first { $0.contains("token_ids") }!
        #expect(sidecarRemote.contains(tokenLine))

        // A plan compiled locally runs the same, its run-time param bound by the server.
        let plan = dir + "/probe.nsb"
        try CompileCommand.parse([script, "--model", Paths.smollm!, "-o", plan]).run()
        try await SubmitCommand.parse([plan, "--server", s.url, "--key", key, "--out", dir + "/plan.safetensors", "--quiet",
                                       "--param", "prompt=Paris is the capital of", "--poll"]).run()
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/plan.safetensors")) == local)

        // The event stream: queued (with a position) or running, then completed.
        let client = try ServerClient(server: s.url, key: key)
        let job = try await client.submit(script: probeScript, name: "probe.nsi", model: nil, params: [:])
        let seen = Locked<[ServerClient.Job]>([])
        let final = try await client.follow(job.id) { j in seen.withLock { $0.append(j) } }
        #expect(final.state == "completed")
        let states = seen.withLock { $0.map(\.state) }
        #expect(states.last == "completed")
        #expect(states.first == "queued" || states.first == "running")
        // The stream itself (no polling): a finished job's stream gives its final state and ends.
        var streamed: [String] = []
        for try await j in client.events(job.id) { streamed.append(j.state) }
        #expect(streamed.last == "completed")
        await #expect { for try await _ in client.events("no-such-job") {} } throws: { ($0 as? ClientError)?.status == 404 }
        // No server there: the stream fails with what went wrong (and `follow` would poll).
        let nobody = try ServerClient(server: "http://127.0.0.1:1", key: key)
        await #expect { for try await _ in nobody.events(job.id) {} } throws: { "\($0)".contains("cannot connect to 127.0.0.1:1") }
        let tls = try ServerClient(server: "https://127.0.0.1:1", key: key)
        await #expect { for try await _ in tls.events(job.id) {} } throws: { "\($0)".contains("http:// only") }
        // Compressed on request, and the same bytes once decompressed.
        let compressed = try await s.http("GET", "/v1/jobs/\(job.id)/results?compress=zstd", key: key)
        #expect(compressed.headers["content-type"] == "application/zstd")
        let plain = try await s.http("GET", "/v1/jobs/\(job.id)/results", key: key)
        #expect(compressed.body.count < plain.body.count)
        // Another key sees nothing of this job.
        let other = try await s.makeKey("mallory")
        #expect(try await s.http("GET", "/v1/jobs/\(job.id)/results", key: other).status == 404)
    }

    /// A plan with `backward` runs like any other (alone: it shares no pass), twice at once
    /// from two keys, and each client downloads what `nsi run` writes.
    @Test func gradientPlansRunLikeAnyOther() async throws {
        let s = try await LiveServer.start(model: Paths.smollm!, name: "smollm2-135m")
        defer { Task { await s.stop() } }
        let keys = [try await s.makeKey("alice"), try await s.makeKey("bob")]
        let script = Paths.root.appendingPathComponent("Samples/frozen_saliency.nsi").path
        try RunCommand.parse([script, "--model", Paths.smollm!, "--out", s.dir + "/local.safetensors", "--quiet"]).run()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (i, key) in keys.enumerated() {
                group.addTask {
                    try await SubmitCommand.parse([script, "--server", s.url, "--key", key, "--out", s.dir + "/remote\(i).safetensors",
                                                   "--quiet"]).run()
                }
            }
            try await group.waitForAll()
        }
        let local = try Data(contentsOf: URL(fileURLWithPath: s.dir + "/local.safetensors"))
        for i in keys.indices {
            #expect(try Data(contentsOf: URL(fileURLWithPath: s.dir + "/remote\(i).safetensors")) == local, "client \(i)'s results differ")
        }
    }

    @Test func cancelQueuedAndRunningJobs() async throws {
        let s = try await LiveServer.start(model: Paths.smollm!) { c in
            c.maxRunningPerKey = 1
            c.jobLimits.deadline = 3600
        }
        defer { Task { await s.stop() } }
        let key = try await s.makeKey("erin")
        let client = try ServerClient(server: s.url, key: key)
        // Minutes of products if it ran to its end (so it is still running however late this
        // test resumes after an await): the cancel stops it mid-run, between tiles.
        let long = holdingScript
        let first = try await client.submit(script: long, name: "long.nsi", model: nil, params: [:])
        let second = try await client.submit(script: long, name: "long.nsi", model: nil, params: [:])
        // Wait until the first runs; the second waits behind it (one running job per key).
        try await waitWhileQueued(client, first.id)
        #expect(try await client.job(second.id).state == "queued")
        #expect(try await client.job(second.id).position == 1)
        let cancelledQueued = try await client.cancel(second.id)
        #expect(cancelledQueued.state == "cancelled")
        let cancelAt = Date()
        let cancelledRunning = try await client.cancel(first.id)
        #expect(cancelledRunning.state == "running" || cancelledRunning.state == "cancelled")
        let final = try await client.follow(first.id)
        #expect(final.state == "cancelled")
        // A missed cancel would have ended `completed`; the delay is printed, not asserted.
        let seconds = Date().timeIntervalSince(cancelAt)
        print("a running job of 4096-square products reached cancelled \(seconds) s after the cancel request")
        let results = try await s.http("GET", "/v1/jobs/\(first.id)/results", key: key)
        #expect(results.status == 409)
        #expect(LiveServer.errorCode(results.body) == "not_completed")
        #expect(try await client.job(second.id).state == "cancelled")
    }

    /// A key holds a bounded number of event streams; past it, 429, and a closed stream
    /// frees its place.
    @Test func eventStreamsPerKeyAreBounded() async throws {
        let s = try await LiveServer.start(model: Paths.smollm!) { c in c.maxStreamsPerKey = 1 }
        defer { Task { await s.stop() } }
        let key = try await s.makeKey("erin")
        let client = try ServerClient(server: s.url, key: key)
        // Minutes of products: the job, and so the first stream, is still open when the
        // second stream is asked for, however late this test resumes; then it is cancelled.
        let job = try await client.submit(script: holdingScript, name: "long.nsi", model: nil, params: [:])
        let opened = Locked(false)
        let first = Task {
            var states: [String] = []
            for try await j in client.events(job.id) {
                opened.withLock { $0 = true }
                states.append(j.state)
            }
            return states
        }
        for _ in 0..<15_000 where !opened.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(20)) }
        #expect(opened.withLock { $0 }, "the first stream did not open")
        let second = try await s.http("GET", "/v1/jobs/\(job.id)/events", key: key)
        #expect(second.status == 429, "status \(second.status)")
        #expect(LiveServer.errorCode(second.body) == "too_many_streams")
        _ = try await client.cancel(job.id)
        let states = try await first.value
        #expect(states.last == "cancelled", "\(states)")
        // Closed, its place is free again: the finished job's stream answers and ends.
        #expect(try await s.http("GET", "/v1/jobs/\(job.id)/events", key: key).status == 200)
    }

    /// A client that resets its connection right after asking for a stream (its response
    /// may never be written) gives the stream's place back: with one stream per key, after
    /// many such resets a stream still opens (it answered 429 forever when the place was
    /// given back only by the body, which never ran).
    @Test func aStreamResetAtOnceGivesItsPlaceBack() async throws {
        let s = try await LiveServer.start(model: Paths.smollm!) { c in c.maxStreamsPerKey = 1 }
        defer { Task { await s.stop() } }
        let key = try await s.makeKey("ivan")
        let client = try ServerClient(server: s.url, key: key)
        let job = try await client.submit(script: probeScript, name: "probe.nsi", model: nil, params: [:])
        #expect(try await client.follow(job.id).state == "completed")
        let blocking = BlockingClient(url: s.url, key: key)
        for _ in 0..<50 { BlockingClient.requestAndReset(port: blocking.port, path: "/v1/jobs/\(job.id)/events", key: key) }
        // Each place comes back as its stream ends or its response is dropped: polled for up
        // to a minute, then a stream opens (the job has ended: it sends the final state).
        var status = 0
        for _ in 0..<600 {
            status = blocking.get("/v1/jobs/\(job.id)/events")?.0 ?? 0
            if status != 429 { break }
            usleep(100_000)
        }
        #expect(status == 200, "status \(status) after 50 streams reset at once")
    }

    @Test func quotaAndFailedRunsAndRetention() async throws {
        let s = try await LiveServer.start(model: Paths.smollm!) { c in
            c.maxActivePerKey = 2
            c.keepResults = 0.5
            c.purgeInterval = 0.1
            c.jobLimits.maxGeneratedTokens = 4
        }
        defer { Task { await s.stop() } }
        let key = try await s.makeKey("frank")
        let client = try ServerClient(server: s.url, key: key)
        // Past the per-job token limit: refused when submitted, not when it would run.
        let tooLong = try await s.http("POST", "/v1/jobs", key: key, body: submitBody(["script": "generate \"Hi\" (max_tokens = 8) { save ids = result.ids }\n"]))
        #expect(tooLong.status == 422)
        #expect(String(decoding: tooLong.body, as: UTF8.self).contains("at most 4 tokens"))
        // An index out of range for the prompt given at run time: the job fails with the
        // VM's message and the kind of failure.
        // The quota: two active jobs (queued or running) per key, exactly. Jobs of minutes
        // of products stay active until cancelled, however busy the machine.
        func submitHolding() async throws -> (status: Int, id: String?) {
            let r = try await s.http("POST", "/v1/jobs", key: key, body: submitBody(["script": holdingScript]))
            return (r.status, (try? JSONSerialization.jsonObject(with: r.body) as? [String: Any])?["id"] as? String)
        }
        let a = try await submitHolding(), b = try await submitHolding()
        #expect(a.status == 202 && b.status == 202, "\(a.status) \(b.status): the second active job was refused")
        let third = try await s.http("POST", "/v1/jobs", key: key, body: submitBody(["script": probeScript]))
        #expect(third.status == 429, "status \(third.status): a third active job was accepted")
        #expect(LiveServer.errorCode(third.body) == "quota_exceeded")
        #expect(third.headers["retry-after"] != nil)
        // One ended (cancelled while queued: at once), one place is free; then none again.
        _ = try await client.cancel(try #require(b.id))
        let c = try await submitHolding()
        #expect(c.status == 202, "status \(c.status): a job refused with one active job")
        #expect(try await s.http("POST", "/v1/jobs", key: key, body: submitBody(["script": probeScript])).status == 429)
        for id in [a.id, c.id].compactMap({ $0 }) {
            _ = try await client.cancel(id)
            #expect(try await client.follow(id).state == "cancelled")
        }
        let outOfRange = try await client.submit(script: "param prompt: str = \"Hi\"\ntrace prompt { save x = model.layers[0].output[:, 40] }\n",
                                                 name: "g.nsi", model: nil, params: [:])
        let ok = try await client.submit(script: probeScript, name: "probe.nsi", model: nil, params: [:])
        let failed = try await client.follow(outOfRange.id)
        #expect(failed.state == "failed")
        #expect(failed.error?.contains("g.nsi") == true)
        #expect(failed.errorKind == "input")
        #expect(try await client.follow(ok.id).state == "completed")
        // Results are kept for keepResults (0.5 s), then gone (410): polled for up to a
        // minute, since the purge runs on a busy machine's time.
        var status = 200
        for _ in 0..<600 where status == 200 {
            try await Task.sleep(for: .milliseconds(100))
            status = try await s.http("GET", "/v1/jobs/\(ok.id)/results", key: key).status
        }
        #expect(status == 410)
    }
}

/// A job's own limits, enforced on the server as they are in the VM: past its deadline or
/// its saved bytes it fails with the limit named, the jobs beside it complete, and the
/// server answers throughout.
@Suite(.serialized, .enabled(if: Paths.smollm != nil, "models/smollm2-135m not fetched"))
struct JobLimitTests {
    @Test func deadlineAndSavedBytesFailTheirJobOnly() async throws {
        let s = try await LiveServer.start(model: Paths.smollm!) { c in
            // Far above what the jobs that must complete take on a loaded machine (a
            // trace of a few tokens: well under a second), far below the holding job's minutes.
            c.jobLimits.deadline = 10
            c.jobLimits.maxSavedBytes = 1 << 16
            c.jobLimits.maxGeneratedTokens = 512
        }
        defer { Task { await s.stop() } }
        let key = try await s.makeKey("grace")
        let client = try ServerClient(server: s.url, key: key)
        // Minutes of products on any CPU: far past the deadline.
        let slow = try await client.submit(script: holdingScript, name: "slow.nsi", model: nil, params: [:])
        // 80 kB of results against a 64 kB limit, in a size only the run knows (a mask's
        // selection): a size known before the run is refused at submission instead (see
        // jobsPastTheirBoundsAreRefusedBeforeTheyAreQueued).
        let masked = "trace \"Hi\" {\n    let x = ones(100, 200)\n    save z = x[x > 0.0]\n}\n"
        let big = try await client.submit(script: masked, name: "big.nsi", model: nil, params: [:])
        let ok = try await client.submit(script: probeScript, name: "probe.nsi", model: nil, params: [:])
        let health = try await s.http("GET", "/v1/health")
        #expect(health.status == 200)

        let timedOut = try await client.follow(slow.id)
        #expect(timedOut.state == "failed")
        #expect(timedOut.errorKind == "limit.deadline", "\(timedOut.errorKind ?? "nil"): \(timedOut.error ?? "")")
        let tooBig = try await client.follow(big.id)
        #expect(tooBig.state == "failed")
        #expect(tooBig.errorKind == "limit.saved bytes", "\(tooBig.errorKind ?? "nil"): \(tooBig.error ?? "")")
        #expect(tooBig.error?.contains("65536") == true, "\(tooBig.error ?? "")")
        #expect(try await client.follow(ok.id).state == "completed")
        #expect(try await s.http("GET", "/v1/health").status == 200)
    }

    /// What is stored counts against the saved-bytes limit: the results file and its JSON
    /// sidecar together. A string saved within the limit whose escaped form is not (a
    /// control character is 6 bytes as JSON) fails as `limit.saved bytes`; the same length
    /// of plain text is stored.
    @Test func theSidecarCountsAgainstTheSavedBytes() async throws {
        let s = try await LiveServer.start(model: Paths.smollm!) { c in c.jobLimits.maxSavedBytes = 1 << 16 }
        defer { Task { await s.stop() } }
        let key = try await s.makeKey("kate")
        let client = try ServerClient(server: s.url, key: key)
        let script = "param p: str = \"x\"\ntrace \"Hi\" { save s = p }\n"
        let escaped = try await client.submit(script: script, name: "s.nsi", model: nil, params: ["p": String(repeating: "\u{1}", count: 20_000)])
        let plain = try await client.submit(script: script, name: "s.nsi", model: nil, params: ["p": String(repeating: "a", count: 20_000)])
        let failed = try await client.follow(escaped.id)
        #expect(failed.state == "failed" && failed.errorKind == "limit.saved bytes", "\(failed.state) \(failed.errorKind ?? ""): \(failed.error ?? "")")
        #expect(failed.error?.contains("JSON sidecar") == true && failed.error?.contains("65536") == true, "\(failed.error ?? "")")
        #expect(try await client.follow(plain.id).state == "completed")
        let sidecar = try await s.http("GET", "/v1/jobs/\(plain.id)/results.json", key: key)
        #expect(sidecar.status == 200 && String(decoding: sidecar.body, as: UTF8.self).contains(String(repeating: "a", count: 20_000)))
    }

    /// Bounds known before a job runs are checked at submission: a prompt param past the
    /// model's positions, values no machine holds, saves past the job limit, forward
    /// passes past `maxFLOPs` get 422 with
    /// the bound and the limit, and no job is queued; a plan within them is queued.
    @Test func jobsPastTheirBoundsAreRefusedBeforeTheyAreQueued() async throws {
        let s = try await LiveServer.start(model: Paths.smollm!) { c in
            c.jobLimits.maxSavedBytes = 1 << 20
            c.maxFLOPs = 10e9
        }
        defer { Task { await s.stop() } }
        let key = try await s.makeKey("judy")
        let lens = "param prompt: str = \"Hi\"\ntrace prompt { save l = model.logits[0, -1] }\n"
        let plan = try Plan(compiling: lens, for: try Model(directory: Paths.smollm!)).bytes.base64EncodedString()
        let cases: [(body: [String: Any], says: String)] = [
            (["plan": plan, "params": ["prompt": String(repeating: " Paris", count: 9000)]], "exceeds the model's 8192 positions"),
            (["script": "trace \"Hi\" { save z = zeros(100000, 100000).sum() }\n"], "the plan's values need 40000000004 bytes"),
            (["script": "trace \"Hi\" { save z = ones(1000, 1000) }\n"], "the plan saves 4000000 bytes; the limit is 1048576 bytes"),
            // 100 positions of SmolLM2's pass (about 0.27 GFLOP each) against 10 GFLOP.
            (["script": "generate \"Hi\" (max_tokens = 100) { save ids = result.ids }\n"], "GFLOP; the limit is 10.00 GFLOP"),
        ]
        for c in cases {
            let answer = try await s.http("POST", "/v1/jobs", key: key, body: submitBody(c.body))
            #expect(answer.status == 422, "\(answer.status): \(String(decoding: answer.body, as: UTF8.self))")
            #expect(String(decoding: answer.body, as: UTF8.self).contains(c.says), "\(String(decoding: answer.body, as: UTF8.self))")
        }
        #expect(try await s.server.store.countsByState().values.reduce(0, +) == 0, "a refused job was queued")
        let ok = try await s.http("POST", "/v1/jobs", key: key, body: submitBody(["plan": plan, "params": ["prompt": "The capital of France is"]]))
        #expect(ok.status == 202)
        #expect(try await s.http("GET", "/v1/health").status == 200)
    }

    /// Stored results per key: a job whose results would pass the key's bound fails with
    /// `limit.stored bytes` and keeps nothing; a key at its bound gets 429 on submission;
    /// another key is not affected.
    @Test func storedResultsPerKeyAreBounded() async throws {
        let s = try await LiveServer.start(model: Paths.smollm!) { c in c.maxStoredBytesPerKey = 3 << 20 }
        defer { Task { await s.stop() } }
        let key = try await s.makeKey("heidi"), other = try await s.makeKey("ivan")
        let client = try ServerClient(server: s.url, key: key), otherClient = try ServerClient(server: s.url, key: other)
        let twoMB = "trace \"Hi\" { save z = ones(512, 1024) }\n"
        let a = try await client.follow(try await client.submit(script: twoMB, name: "a.nsi", model: nil, params: [:]).id)
        #expect(a.state == "completed")
        let b = try await client.follow(try await client.submit(script: twoMB, name: "b.nsi", model: nil, params: [:]).id)
        #expect(b.state == "failed" && b.errorKind == "limit.stored bytes", "\(b.state) \(b.errorKind ?? "nil")")
        #expect(b.error?.contains("3145728") == true, "\(b.error ?? "")")
        #expect(try await s.http("GET", "/v1/jobs/\(b.id)/results", key: key).status != 200)
        // The same 2 MB for another key: its own bound.
        #expect(try await otherClient.follow(try await otherClient.submit(script: twoMB, name: "c.nsi", model: nil, params: [:]).id).state == "completed")
        // Results that reach the bound (kept from before it was lowered, say): 429 on submission.
        let job = try await s.server.store.insert(NewJob(keyID: try #require(try await s.server.store.key(hash: APIKeys.hash(key))).id, model: "m", name: "old.nsi",
                                                         plan: Data([1]), params: [:]), maxActive: 100)
        try await s.server.store.complete(id: job.id, results: StoredResults(safetensors: Data(count: 2 << 20), sidecar: "{}"), batchSize: 1)
        let refused = try await s.http("POST", "/v1/jobs", key: key, body: submitBody(["script": probeScript]))
        #expect(refused.status == 429)
        #expect(LiveServer.errorCode(refused.body) == "storage_quota_exceeded")
        #expect(try await s.http("POST", "/v1/jobs", key: other, body: submitBody(["script": probeScript])).status == 202)
    }
}
