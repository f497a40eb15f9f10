import Foundation
import Testing
import NSITensor
import NSITestSupport

/// The example hosts of Samples/hosts, built against libnsic.so and run on SmolLM2: what
/// they read through the C ABI equals what `nsi run` writes, value for value.
@Suite(.enabled(if: Host.modelDirectory != nil, "models/smollm2-135m not fetched"), .serialized)
struct HostTests {
    /// (sample, params as JSON, the same as --param)
    static let cases: [(String, String?, [String])] = [
        ("ablation.nsi", nil, []),
        ("logit_lens.nsi", "{\"prompt\": \"The capital of France is\"}", ["--param", "prompt=The capital of France is"]),
    ]

    @Test func headerCompilesAsCAndCXX() throws {
        let dir = try Host.temporaryDirectory()
        let c = dir + "/header.c", cxx = dir + "/header.cpp"
        try "#include \"nsi.h\"\nint main(void) { return nsi_version() == 0; }\n".write(toFile: c, atomically: true, encoding: .utf8)
        try "#include \"nsi.h\"\nint main() { return nsi_version() == nullptr; }\n".write(toFile: cxx, atomically: true, encoding: .utf8)
        try Host.run("cc", ["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-fsyntax-only", "-I", Host.include, c])
        try Host.run("c++", ["-std=c++11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-fsyntax-only", "-I", Host.include, cxx])
    }

    @Test func cHostAgreesWithNsiRun() throws {
        let dir = try Host.temporaryDirectory()
        let host = try Host.buildC(in: dir)
        for (sample, json, params) in Self.cases {
            let dump = dir + "/\(sample).c.txt"
            let out = try Host.run(host, [Host.modelDirectory!, Host.sample(sample)] + (json.map { [$0] } ?? []) + ["--dump", dump])
            #expect(out.contains("nsi 0."))
            try Host.compare(dump: dump, with: try Host.nsiRun(sample, params, in: dir), label: "C host, \(sample)")
        }
    }

    /// Error codes and messages, NULL handles, out-of-range accessors, cancellation, and
    /// 4 C threads on one plan (Tests/NSIHostTests/abi_check.c).
    @Test func abiErrorsAndThreads() throws {
        let dir = try Host.temporaryDirectory()
        let lib = (try Host.library() as NSString).deletingLastPathComponent
        let program = dir + "/abi_check"
        try Host.run("cc", ["-std=c11", "-Wall", "-Wextra", "-Werror", "-I", Host.include, Host.repository + "/Tests/NSIHostTests/abi_check.c",
                            "-L", lib, "-lnsic", "-Wl,-rpath," + lib, "-lpthread", "-o", program])
        let out = try Host.run(program, [Host.modelDirectory!])
        #expect(out.contains("checks passed"))
    }

    @Test(.enabled(if: Host.hasNumpy || Host.required("numpy"), "python3 with numpy not found"))
    func pythonHostAgreesWithNsiRun() throws {
        try #require(Host.hasNumpy, "NSI_TEST_REQUIRE names numpy, but python3 cannot import it (Scripts/setup installs python3-numpy)")
        let dir = try Host.temporaryDirectory()
        let library = try Host.library()
        for (sample, json, params) in Self.cases {
            let dump = dir + "/\(sample).py.txt"
            let out = try Host.run("python3", [Host.repository + "/Samples/hosts/host.py", library, Host.modelDirectory!, Host.sample(sample)]
                                   + (json.map { [$0] } ?? []) + ["--dump", dump])
            #expect(out.contains("nsi 0."))
            try Host.compare(dump: dump, with: try Host.nsiRun(sample, params, in: dir), label: "Python host, \(sample)")
        }
    }
}

enum Host {
    static let repository = Fixtures.repository.path
    static let include = repository + "/Sources/NSIC/include"

    static var modelDirectory: String? { Fixtures.modelDirectory }

    static let hasNumpy: Bool = (try? run("python3", ["-c", "import numpy"])) != nil

    /// Whether `NSI_TEST_REQUIRE` (set by `make test`) names this dependency: its tests
    /// then fail without it instead of skipping.
    static func required(_ name: String) -> Bool {
        (ProcessInfo.processInfo.environment["NSI_TEST_REQUIRE"] ?? "").split(separator: ",").contains { $0 == name }
    }

    static func sample(_ name: String) -> String { repository + "/Samples/" + name }

    static func temporaryDirectory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nsi-hosts-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Where `swift build` and `swift test` put every product of the package (libnsic.so
    /// and the `nsi` tool included): beside this test binary.
    static let bin = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().path

    static func library() throws -> String {
        for name in ["libnsic.so", "libnsic.dylib"] where FileManager.default.fileExists(atPath: bin + "/" + name) {
            return bin + "/" + name
        }
        throw HostError("libnsic is not in \(bin); build it with `swift build --product nsic`")
    }

    /// Compiles Samples/hosts/host.c against the library, as its Makefile does.
    static func buildC(in dir: String) throws -> String {
        let lib = (try library() as NSString).deletingLastPathComponent
        let out = dir + "/host"
        try run("cc", ["-std=c11", "-Wall", "-Wextra", "-Werror", "-I", include, repository + "/Samples/hosts/host.c",
                       "-L", lib, "-lnsic", "-Wl,-rpath," + lib, "-o", out])
        return out
    }

    /// `nsi run SAMPLE --out DIR/NAME.safetensors` (the tool, in its own process), read back.
    static func nsiRun(_ sample: String, _ params: [String], in dir: String) throws -> SafetensorsFile {
        let out = dir + "/\(sample).reference.safetensors"
        try run(bin + "/nsi", ["run", Host.sample(sample), "--model", modelDirectory!, "--out", out, "--quiet"] + params)
        return try SafetensorsFile(path: out)
    }

    /// The host's dump (`name dtype d0,d1 v0 v1 ...` per tensor) against `nsi run`'s
    /// file: the same names, dtypes, shapes and values; floats printed with 9 significant
    /// digits are exact, so the values must be equal (the largest difference is printed).
    static func compare(dump: String, with reference: SafetensorsFile, label: String) throws {
        let lines = try String(contentsOfFile: dump, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: true)
        #expect(lines.count == reference.names.count, "\(label): \(lines.count) tensors, nsi run wrote \(reference.names.count)")
        var maxDiff: Float = 0
        for line in lines {
            let fields = line.split(separator: " ", omittingEmptySubsequences: false)
            let name = String(fields[0]), dtype = String(fields[1])
            let shape = fields[2].isEmpty ? [] : fields[2].split(separator: ",").map { Int($0)! }
            let values = fields.dropFirst(3).map { Float(String($0))! }
            let expected = try reference.tensor(name)
            #expect(expected.dtype.rawValue == dtype, "\(label): \(name) is \(dtype), nsi run wrote \(expected.dtype)")
            #expect(expected.shape == shape, "\(label): \(name) has shape \(shape), nsi run wrote \(expected.shape)")
            let want = expected.toFloats()
            maxDiff = max(maxDiff, maxAbsDiff(values, want))
        }
        print("\(label): \(lines.count) tensors, max difference from nsi run \(maxDiff)")
        #expect(maxDiff == 0, "\(label): values differ from nsi run by up to \(maxDiff)")
    }

    /// Runs a program; its stdout, or an error with its output when it fails.
    @discardableResult
    static func run(_ program: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [program] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw HostError("\(program) \(arguments.joined(separator: " ")) exited \(process.terminationStatus):\n"
                            + String(decoding: stdout + stderr, as: UTF8.self))
        }
        return String(decoding: stdout, as: UTF8.self)
    }
}

struct HostError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
