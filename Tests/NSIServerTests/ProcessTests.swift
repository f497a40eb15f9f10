import NSIClient
import Foundation
import Testing
@testable import NSIServer

let generateScript = "generate \"The capital of France is\" (max_tokens = 6) { save ids = result.ids }\n"

/// `nsi serve` as real processes: killed mid-queue and restarted (SQLite), and two servers
/// sharing one PostgreSQL queue.
@Suite(.serialized, .enabled(if: Paths.smollm != nil && Paths.nsi != nil, "needs models/smollm2-135m and the built nsi"))
struct ProcessTests {
    @Test func aKilledServerLosesNoJob() async throws {
        let nsi = Paths.nsi!
        let dir = try Paths.temporaryDirectory("restart")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = dir + "/queue.sqlite"
        let (status, key) = try runProcess(nsi, ["keys", "create", "--name", "alice", "--store", store])
        #expect(status == 0)
        let serveArgs = ["--model", "m=" + Paths.smollm!, "--store", store, "--max-batch", "1", "--max-running-per-key", "1"]
        var serve = try ServeProcess(nsi: nsi, args: serveArgs)
        let k = key.trimmingCharacters(in: .whitespacesAndNewlines)
        // Blocking requests from the first submission to the kill: nothing here awaits.
        let blocking = BlockingClient(url: serve.url, key: k)
        var ids: [String] = []
        for _ in 0..<4 { ids.append(try blocking.submit(generateScript, name: "g.nsi")) }
        // Kill it while a job runs and the rest wait. A job of 6 tokens may end before any
        // kill lands, so the kill is made to land mid-run: the worker process is stopped
        // (SIGSTOP) once a job is seen running, and only then are both killed. A worker
        // stopped between jobs is let go on and caught again.
        try blocking.waitWhileQueued(ids[0])
        var caught = false
        for _ in 0..<1_000 where !caught {
            guard let worker = serve.workerPID else { usleep(5_000); continue }
            kill(worker, SIGSTOP)
            if try ids.contains(where: { try blocking.state($0) == "running" }) {
                serve.kill()
                kill(worker, SIGKILL)
                caught = true
            } else {
                kill(worker, SIGCONT)
                usleep(5_000)
            }
        }
        try #require(caught, "no job was seen running in 1,000 tries")
        // What the store held when the server died: one job mid-run, none lost yet.
        let atKill = try await SQLiteJobStore(path: store).countsByState()
        #expect(atKill[.running] == 1, "\(atKill)")
        #expect(atKill.values.reduce(0, +) == 4, "\(atKill)")

        serve = try ServeProcess(nsi: nsi, args: serveArgs)
        defer { serve.stop() }
        let client = try ServerClient(server: serve.url, key: k)
        var files: [Data] = []
        for id in ids {
            let job = try await client.follow(id)
            #expect(job.state == "completed", "\(id): \(job.state) \(job.error ?? "")")
            files.append(try await client.results(id).safetensors)
        }
        #expect(Set(files).count == 1, "the same script gave different results")
        let counts = try await SQLiteJobStore(path: store).countsByState()
        #expect(counts[.completed] == 4 && counts.count == 1)
    }

    /// A job that kills the server each time it runs is failed after `--max-attempts`
    /// (here killed by hand, twice, while it runs); a job queued beside it completes.
    @Test func aJobThatKeepsKillingTheServerFails() async throws {
        let nsi = Paths.nsi!
        let dir = try Paths.temporaryDirectory("poison")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = dir + "/queue.sqlite"
        let (status, key) = try runProcess(nsi, ["keys", "create", "--name", "alice", "--store", store])
        #expect(status == 0)
        let k = key.trimmingCharacters(in: .whitespacesAndNewlines)
        let serveArgs = ["--model", "m=" + Paths.smollm!, "--store", store, "--max-batch", "2", "--max-attempts", "2"]
        // Minutes of products if it ran to its end; each attempt is killed once seen running.
        // Until the second kill every step blocks (no await), so however late this test
        // would resume after an await, the job cannot finish first.
        let long = holdingScript
        var serve = try ServeProcess(nsi: nsi, args: serveArgs)
        let poison = try BlockingClient(url: serve.url, key: k).submit(long, name: "poison.nsi")
        let harmless = try BlockingClient(url: serve.url, key: k).submit(generateScript, name: "g.nsi")
        for _ in 0..<2 {
            try BlockingClient(url: serve.url, key: k).waitWhileQueued(poison)
            serve.kill()
            serve = try ServeProcess(nsi: nsi, args: serveArgs)
        }
        let client = try ServerClient(server: serve.url, key: k)
        defer { serve.stop() }
        let failed = try await client.follow(poison)
        #expect(failed.state == "failed" && failed.errorKind == "crash", "\(failed.state) \(failed.errorKind ?? "")")
        #expect(failed.error?.contains("2 times") == true, "\(failed.error ?? "")")
        let done = try await client.follow(harmless)
        #expect(done.state == "completed", "\(done.state): \(done.error ?? "")")
    }

    @Test func twoServersShareOnePostgresQueue() async throws {
        guard let pg = try TemporaryPostgres.start() else { return }
        defer { pg.stop() }
        let nsi = Paths.nsi!
        let (status, key) = try runProcess(nsi, ["keys", "create", "--name", "alice", "--store", pg.url])
        #expect(status == 0)
        let args = ["--model", "m=" + Paths.smollm!, "--store", pg.url, "--max-batch", "2"]
        let a = try ServeProcess(nsi: nsi, args: args), b = try ServeProcess(nsi: nsi, args: args)
        defer { a.stop(); b.stop() }
        let k = key.trimmingCharacters(in: .whitespacesAndNewlines)
        let ca = try ServerClient(server: a.url, key: k), cb = try ServerClient(server: b.url, key: k)
        var ids: [String] = []
        for i in 0..<8 { ids.append(try await (i % 2 == 0 ? ca : cb).submit(script: generateScript, name: "g.nsi", model: nil, params: [:]).id) }
        var workers = Set<String>()
        for id in ids {
            let job = try await ca.follow(id)
            #expect(job.state == "completed")
            #expect(job.attempts == 1, "\(id) ran \(job.attempts ?? 0) times")
            if let w = job.worker { workers.insert(w) }
            // Either server answers for any job.
            #expect(try await cb.job(id).state == "completed")
        }
        #expect(workers.count == 2, "both servers ran jobs: \(workers)")
    }
}

/// A throwaway PostgreSQL cluster on a free loopback port, from Debian's binaries; nil
/// (with the reason printed) when there are none.
final class TemporaryPostgres {
    let dir: String
    let bin: String
    let url: String
    let asUser: [String]

    static func start() throws -> TemporaryPostgres? {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        guard let bin = versions.sorted().reversed().map({ "/usr/lib/postgresql/\($0)/bin" })
            .first(where: { FileManager.default.isExecutableFile(atPath: $0 + "/pg_ctl") }) else {
            // `make test` sets NSI_TEST_REQUIRE after Scripts/setup installed the binaries.
            if (ProcessInfo.processInfo.environment["NSI_TEST_REQUIRE"] ?? "").split(separator: ",").contains("postgresql") {
                Issue.record("NSI_TEST_REQUIRE names postgresql, but there are no PostgreSQL server binaries (Scripts/setup installs them)")
            } else {
                print("skipped: no PostgreSQL server binaries (Debian's postgresql package)")
            }
            return nil
        }
        return try TemporaryPostgres(bin: bin)
    }

    init(bin: String) throws {
        self.bin = bin
        dir = try Paths.temporaryDirectory("pg")
        // PostgreSQL refuses to run as root: as root, run it as the postgres user.
        asUser = getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : []
        if getuid() == 0 {
            _ = try runProcess("/bin/chown", ["-R", "postgres", dir])
        }
        let port = Self.freePort()
        url = "postgres://postgres@127.0.0.1:\(port)/postgres"
        let (s1, _) = try run([bin + "/initdb", "-D", dir + "/data", "-A", "trust", "-U", "postgres"])
        guard s1 == 0 else { throw ClientError("initdb failed") }
        let (s2, _) = try run([bin + "/pg_ctl", "-D", dir + "/data", "-l", dir + "/log", "-w", "-o",
                               "-p \(port) -k \(dir) -c listen_addresses=127.0.0.1", "start"])
        guard s2 == 0 else { throw ClientError("pg_ctl start failed: " + ((try? String(contentsOfFile: dir + "/log", encoding: .utf8)) ?? "")) }
    }

    /// posix_spawn and waitpid: Foundation's Process did not see runuser exit.
    func run(_ command: [String]) throws -> (Int32, String) {
        let argv = asUser + command
        var pid: pid_t = 0
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        guard posix_spawn(&pid, argv[0], &actions, nil, cArgs, environ) == 0 else { return (-1, "") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        return ((status >> 8) & 0xff, "")
    }

    func stop() {
        _ = try? run([bin + "/pg_ctl", "-D", dir + "/data", "-m", "immediate", "-w", "stop"])
        try? FileManager.default.removeItem(atPath: dir)
    }

    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
