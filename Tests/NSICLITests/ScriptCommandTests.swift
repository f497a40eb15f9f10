import Foundation
@testable import NSICLI
import Testing

/// The commands' logic, called directly: files in a temporary folder, outputs compared.
@Suite struct ScriptCommandTests {
    let folder: URL

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("nsi-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    func write(_ name: String, _ text: String) throws -> String {
        let url = folder.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    func read(_ path: String) throws -> String {
        String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
    }

    static let messy = "trace \"p\"{let a=1;save b = a*2}\n"
    static let tidy = "trace \"p\" {\n    let a = 1\n    save b = a * 2\n}\n"
    static let broken = "trace \"p\" {\n    let a = (1\n    let = 2\n}\n"

    @Test func subcommandsAreRegistered() {
        let names = NSICommand.configuration.subcommands.map { $0.configuration.commandName }
        #expect(names.contains("fmt") && names.contains("parse"))
    }

    @Test func parsePrintsTheTree() throws {
        let path = try write("ok.nsi", Self.tidy)
        let output = ParseCommand.execute(file: path, ranges: true, format: .text, color: false)
        #expect(output.exitCode == 0)
        #expect(output.stderr.isEmpty)
        #expect(output.stdout.hasPrefix("Script @1:1-5:1\n  Trace @1:1-4:2\n"))
        let plain = ParseCommand.execute(file: path, ranges: false, format: .text, color: false)
        #expect(!plain.stdout.contains("@"))
    }

    @Test func parseFailsWithEveryDiagnostic() throws {
        let path = try write("bad.nsi", Self.broken)
        let output = ParseCommand.execute(file: path, ranges: true, format: .text, color: false)
        #expect(output.exitCode == 1)
        #expect(output.stdout.isEmpty)
        #expect(output.stderr.contains("error[E0104]"))
        #expect(output.stderr.contains("error[E0103]"))
        #expect(output.stderr.hasSuffix("2 errors in \(path)\n"))
        #expect(!output.stderr.contains("\u{1B}"))
    }

    @Test func jsonDiagnosticsAreOneObjectPerLine() throws {
        let path = try write("bad.nsi", Self.broken)
        let output = ParseCommand.execute(file: path, ranges: true, format: .json, color: false)
        #expect(output.exitCode == 1)
        let lines = output.stderr.split(separator: "\n")
        #expect(lines.count == 2)
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["code"] as? String != nil)
            #expect(object?["file"] as? String == path)
        }
    }

    @Test func anUnreadableFileIsAnError() {
        let output = ParseCommand.execute(file: folder.appendingPathComponent("missing.nsi").path, ranges: true,
                                          format: .text, color: false)
        #expect(output.exitCode == 1)
        #expect(output.stderr.hasPrefix("error: cannot read "))
    }

    @Test func fmtPrintsTheCanonicalForm() throws {
        let path = try write("messy.nsi", Self.messy)
        let output = FmtCommand.execute(files: [path], mode: .print, format: .text, color: false)
        #expect(output == CommandOutput(stdout: Self.tidy, stderr: "", exitCode: 0))
        #expect(try read(path) == Self.messy)
    }

    @Test func fmtCheckReportsFilesThatWouldChange() throws {
        let messy = try write("messy.nsi", Self.messy)
        let tidy = try write("tidy.nsi", Self.tidy)
        #expect(FmtCommand.execute(files: [tidy], mode: .check, format: .text, color: false).exitCode == 0)
        let output = FmtCommand.execute(files: [tidy, messy], mode: .check, format: .text, color: false)
        #expect(output.exitCode == 1)
        #expect(output.stderr == "\(messy) would be reformatted\n")
        #expect(try read(messy) == Self.messy)
    }

    @Test func fmtWriteRewritesInPlace() throws {
        let path = try write("messy.nsi", Self.messy)
        let output = FmtCommand.execute(files: [path], mode: .write, format: .text, color: false)
        #expect(output.exitCode == 0)
        #expect(output.stdout.isEmpty)
        #expect(try read(path) == Self.tidy)
    }

    @Test func fmtRefusesScriptsWithErrors() throws {
        let path = try write("bad.nsi", Self.broken)
        let output = FmtCommand.execute(files: [path], mode: .write, format: .text, color: false)
        #expect(output.exitCode == 1)
        #expect(output.stderr.contains("error[E0104]"))
        #expect(try read(path) == Self.broken)
    }

    @Test func writeAndCheckExcludeEachOther() {
        #expect(throws: (any Error).self) { try FmtCommand.parse(["--write", "--check", "x.nsi"]) }
        #expect(throws: (any Error).self) { try ParseCommand.parse(["--diagnostics", "xml", "x.nsi"]) }
        #expect((try? ParseCommand.parse(["--diagnostics", "json", "--no-ranges", "x.nsi"])) != nil)
    }
}
