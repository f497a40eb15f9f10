import Foundation
import Testing
import NSITensor

/// Every matmul runs a kernel set built for the processor: never OpenBLAS's generic one
/// on a CPU with AVX2 or AVX-512, in the `nsi` tool and in a host that loaded OpenBLAS
/// and used it before nsi. `OPENBLAS_CORETYPE=Prescott` makes OpenBLAS start on its
/// generic set here, as it does by itself on processors newer than its table.
@Suite struct KernelChoiceTests {
    static let vectorCPU = CPUFeatures.current.vectorLevel != "generic"
    static let generic: Set<String> = ["prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "nano",
                                       "opteron", "opteron_sse3", "barcelona", "athlon", "katmai", "coppermine",
                                       "northwood", "banias", "bobcat", "sandybridge", "bulldozer", "unknown", ""]

    /// `env -u NSI_BLAS_CORE [VAR=value ...] PROGRAM`: the default choice, whatever the
    /// environment of the test run asks for.
    static func run(_ env: [String], _ program: String, _ args: [String] = []) throws -> String {
        try Host.run("-u", ["NSI_BLAS_CORE"] + env + [program] + args)
    }

    /// The kernel set named on the `blas core:` line of `nsi doctor`'s text.
    static func core(_ report: String) throws -> String {
        let line = try #require(report.split(separator: "\n").first { $0.hasPrefix("blas core: ") }, "no blas core line in:\n\(report)")
        return String(line.dropFirst("blas core: ".count).prefix { $0 != " " })
    }

    @Test func doctorNamesTheMachine() throws {
        let out = try Self.run([], Host.bin + "/nsi", ["doctor"])
        for field in ["cpu: ", "features: ", "blas: ", "blas core: ", "threads: "] {
            #expect(out.contains("\n" + field) || out.hasPrefix(field), "nsi doctor lacks \(field)")
        }
        if Self.vectorCPU { #expect(!Self.generic.contains(try Self.core(out).lowercased()), "generic kernel in use:\n\(out)") }
    }

    @Test(.enabled(if: vectorCPU, "the CPU has neither AVX2 nor AVX-512"))
    func aGenericStartIsReplaced() throws {
        let out = try Self.run(["OPENBLAS_CORETYPE=Prescott"], Host.bin + "/nsi", ["doctor"])
        let core = try Self.core(out)
        #expect(!Self.generic.contains(core.lowercased()), "OpenBLAS stayed on \(core):\n\(out)")
        #expect(out.contains("switched from OpenBLAS's Prescott"), "\(out)")
        print("started on Prescott, now: \(core)")
    }

    @Test(.enabled(if: vectorCPU, "the CPU has neither AVX2 nor AVX-512"))
    func keepLeavesOpenBLASsChoice() throws {
        let out = try Self.run(["OPENBLAS_CORETYPE=Prescott", "NSI_BLAS_CORE=keep"], Host.bin + "/nsi", ["doctor"])
        #expect(try Self.core(out) == "Prescott", "\(out)")
    }

    /// A set OpenBLAS does not have is refused, and OpenBLAS's own choice is kept.
    @Test func anUnknownSetKeepsTheChoice() throws {
        let plain = try Self.core(try Self.run(["NSI_BLAS_CORE=keep"], Host.bin + "/nsi", ["doctor"]))
        let out = try Self.run(["NSI_BLAS_CORE=NoSuchCore"], Host.bin + "/nsi", ["doctor"])
        #expect(out.contains("OpenBLAS has no usable NoSuchCore set"), "\(out)")
        #expect(try Self.core(out) == plain)
    }

    /// A C host that called OpenBLAS itself before nsi: nsi still switches the set, and a
    /// product afterwards is right.
    @Test(.enabled(if: vectorCPU, "the CPU has neither AVX2 nor AVX-512"))
    func aHostThatUsedOpenBLASFirst() throws {
        let dir = try Host.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = dir + "/first.c", program = dir + "/first"
        try """
        #include <cblas.h>
        #include <stdio.h>
        #include "nsi.h"
        static int check(void) {
            float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {7, 8, 9, 10, 11, 12}, c[4] = {0};
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2);
            return c[0] == 58 && c[1] == 64 && c[2] == 139 && c[3] == 154;
        }
        int main(void) {
            if (!check()) { puts("wrong product before nsi"); return 1; }
            fputs(nsi_system_info(), stdout);
            if (!check()) { puts("wrong product after nsi"); return 1; }
            return 0;
        }
        """.write(toFile: source, atomically: true, encoding: .utf8)
        let lib = (try Host.library() as NSString).deletingLastPathComponent
        try Host.run("cc", ["-std=c11", "-Wall", "-Werror", "-I", Host.include, source, "-L", lib, "-lnsic", "-lopenblas",
                            "-Wl,-rpath," + lib, "-o", program])
        let out = try Self.run(["OPENBLAS_CORETYPE=Prescott"], program)
        #expect(!Self.generic.contains(try Self.core(out).lowercased()), "\(out)")
    }
}
