import Foundation
import NSICheck
import NSITestSupport
import Testing

/// `load`'s file policy: under a directory, nothing outside it is read, whatever the path
/// says (`..`, an absolute path, a symbolic link), only regular files are opened, and the
/// refusal never names what lies outside.
@Suite struct FilePolicyTests {
    @Test func underADirectory() throws {
        let root = try Fixtures.temporaryDirectory("files")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let allowed = root + "/allowed"
        try FileManager.default.createDirectory(atPath: allowed + "/sub", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: allowed + "/sub/v.safetensors", contents: Data())
        FileManager.default.createFile(atPath: root + "/secret.safetensors", contents: Data())
        try FileManager.default.createSymbolicLink(atPath: allowed + "/link.safetensors", withDestinationPath: root + "/secret.safetensors")
        #expect(mkfifo(allowed + "/fifo", 0o600) == 0)
        let policy = FilePolicy.under(allowed)

        let inside = try policy.resolve("sub/v.safetensors").get()
        #expect(inside.hasSuffix("/allowed/sub/v.safetensors"))
        #expect((try? policy.resolve("sub/../sub/v.safetensors").get()) == inside)
        for escape in ["../secret.safetensors", root + "/secret.safetensors", "link.safetensors", "/etc/passwd", "sub/../../secret.safetensors"] {
            guard case .failure(let refusal) = policy.resolve(escape) else { Issue.record("\(escape) was allowed"); continue }
            #expect(refusal.reason.contains("outside the directory"))
            #expect(!refusal.reason.contains(root + "/secret") || escape.contains(root), "the refusal names the target: \(refusal.reason)")
        }
        guard case .failure(let fifo) = policy.resolve("fifo") else { Issue.record("a FIFO was allowed"); return }
        #expect(fifo.reason.contains("not a regular file"))
    }

    @Test func refusedAndRelative() {
        #expect(FilePolicy.refused("no files here").resolve("a.safetensors") == .failure(.init(reason: "no files here")))
        #expect(FilePolicy.relativeTo("/data").resolve("a.safetensors") == .success("/data/a.safetensors"))
        #expect(FilePolicy.relativeTo("/data").resolve("/x/a.safetensors") == .success("/x/a.safetensors"))
    }
}
