import CBLAS
import CNSIKernels
import Foundation

/// The processor's features as nsi uses them (what the OS lets a program use).
public struct CPUFeatures: Sendable, Equatable {
    public let vendor: String
    public let brand: String
    public let family: Int
    public let model: Int
    /// Feature names in a fixed order: sse4.2, avx, avx2, fma, f16c, avx512f, ...
    public let flags: [String]

    public func has(_ flag: String) -> Bool { flags.contains(flag) }

    public static let current: CPUFeatures = {
        var info = nsi_cpu_info()
        nsi_cpu_detect(&info)
        func string<T>(_ tuple: T) -> String {
            withUnsafeBytes(of: tuple) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        let named: [(String, Int32)] = [
            ("sse4.2", info.sse42), ("avx", info.avx), ("avx2", info.avx2), ("fma", info.fma), ("f16c", info.f16c),
            ("avx512f", info.avx512f), ("avx512bw", info.avx512bw), ("avx512dq", info.avx512dq), ("avx512vl", info.avx512vl),
            ("avx512_vnni", info.avx512_vnni), ("avx512_bf16", info.avx512_bf16), ("amx_tile", info.amx_tile), ("amx_bf16", info.amx_bf16),
        ]
        return CPUFeatures(vendor: string(info.vendor), brand: string(info.brand), family: Int(info.family), model: Int(info.model),
                           flags: named.filter { $0.1 != 0 }.map(\.0))
    }()

    /// The widest vector extension the kernels may use: "avx512", "avx2" or "generic".
    public var vectorLevel: String {
        if has("avx512f") && has("avx512bw") && has("avx512dq") && has("avx512vl") { return "avx512" }
        if has("avx2") && has("fma") { return "avx2" }
        return "generic"
    }
}

/// Which of OpenBLAS's kernel sets every matmul runs, chosen once per process before the
/// first product: never a generic one on a processor with AVX2 or AVX-512.
///
/// Debian's OpenBLAS (built with DYNAMIC_ARCH) picks its set at load from a table of the
/// processors it knows, and falls back to the generic SSE3 set ("Prescott") on newer
/// ones, several times slower. nsi reads the processor's features itself and, when
/// OpenBLAS's choice is weaker than the processor allows, switches OpenBLAS to the set
/// built for them; a product checked against the naive oracle confirms the switch, and a
/// set that fails it is switched back. This happens in every process that runs nsi's
/// products, the CLI, the server and a host embedding libnsic alike.
///
/// `NSI_BLAS_CORE` overrides: `keep` leaves OpenBLAS's own choice, a set name
/// (`Haswell`, `SkylakeX`, `Zen`, ...) asks for that one.
public enum BLASSetup {
    public struct Report: Sendable {
        public let cpu: CPUFeatures
        /// OpenBLAS's build description (openblas_get_config), or "" for another BLAS.
        public let library: String
        /// The set OpenBLAS chose at load, and the one in use now.
        public let coreAtLoad: String
        public let core: String
        /// Why the set in use is the one it is.
        public let reason: String
        /// nsi's threads (`NSI_THREADS`, default all cores); OpenBLAS runs one per call.
        public let threads: Int

        /// True when the set in use is a generic one (no AVX2/AVX-512 kernels).
        public var isGeneric: Bool { BLASSetup.rank(core) < 2 }
    }

    /// Kernel sets by the vector extension their sgemm uses: 0 SSE, 1 AVX, 2 AVX2/FMA, 3 AVX-512.
    static func rank(_ core: String) -> Int {
        switch core.lowercased() {
        case "skylakex", "cooperlake", "sapphirerapids": return 3
        case "haswell", "zen": return 2
        case "sandybridge", "bulldozer", "piledriver", "steamroller", "excavator": return 1
        default: return 0
        }
    }

    /// The set built for this processor's features, or nil when no vector set applies.
    static func target(for cpu: CPUFeatures) -> String? {
        switch cpu.vectorLevel {
        case "avx512": return cpu.has("avx512_bf16") ? "Cooperlake" : "SkylakeX"
        case "avx2": return cpu.vendor == "AuthenticAMD" || cpu.vendor == "HygonGenuine" ? "Zen" : "Haswell"
        default: return cpu.has("avx") ? "Sandybridge" : nil
        }
    }

    static func coreName() -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        nsi_blas_core_name(&buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// A product through the BLAS in use against the double-precision oracle.
    static func selfCheck() -> Bool {
        var state: UInt32 = 0x9E37_79B9
        func next() -> Float {
            state ^= state << 13; state ^= state >> 17; state ^= state << 5
            return Float(state % 2001) / 1000 - 1
        }
        for (m, k, n) in [(67, 45, 83), (1, 129, 37), (130, 64, 96)] {
            let a = Tensor(shape: [m, k], floats: (0..<(m * k)).map { _ in next() })
            let b = Tensor(shape: [k, n], floats: (0..<(k * n)).map { _ in next() })
            let out = Tensor(zeros: [m, n])
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1,
                        a.floatPointer, Int32(k), b.floatPointer, Int32(n), 0, out.floatPointer, Int32(n))
            let want = a.matmulNaive(b).toFloats(), got = out.toFloats()
            for (g, w) in zip(got, want) where !(abs(g - w) <= 1e-4 * (1 + abs(w))) { return false }
        }
        return true
    }

    public static let report: Report = {
        let cpu = CPUFeatures.current
        let atLoad = coreName()
        // One pool: nsi's parallel loops split every product over the cores themselves,
        // and OpenBLAS's own threads, spinning between calls, would only contend with them.
        openblas_set_num_threads(1)
        func made(_ reason: String) -> Report {
            var config = [CChar](repeating: 0, count: 256)
            nsi_blas_config(&config, config.count)
            let library = String(decoding: config.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return Report(cpu: cpu, library: library, coreAtLoad: atLoad, core: coreName(), reason: reason, threads: Threads.count)
        }
        let request = ProcessInfo.processInfo.environment["NSI_BLAS_CORE"]
        if request?.lowercased() == "keep" { return made("NSI_BLAS_CORE=keep: OpenBLAS's own choice") }
        if atLoad.isEmpty { return made("the BLAS in use does not name its kernel set") }
        let wanted: String
        if let request, !request.isEmpty {
            wanted = request
        } else {
            guard let t = target(for: cpu) else { return made("no vector kernel set applies to this processor") }
            guard rank(atLoad) < rank(t) else { return made("OpenBLAS's choice fits this processor") }
            wanted = t
        }
        guard nsi_blas_can_switch() != 0 else {
            return made("OpenBLAS chose \(atLoad) and cannot switch (not built with DYNAMIC_ARCH)")
        }
        // OpenBLAS may give a close relative of the set asked for (SkylakeX for
        // Cooperlake on a CPU without AVX512-BF16 kernels): any stronger set will do.
        guard nsi_blas_switch(wanted) != 0 || (request == nil && rank(coreName()) > rank(atLoad)) else {
            _ = nsi_blas_switch(atLoad)
            return made("OpenBLAS has no usable \(wanted) set; kept \(atLoad)")
        }
        guard selfCheck() else {
            _ = nsi_blas_switch(atLoad)
            return made("the \(wanted) set failed the product check; kept \(atLoad)")
        }
        return made(request != nil ? "NSI_BLAS_CORE=\(wanted)" : "switched from OpenBLAS's \(atLoad): the processor has \(cpu.vectorLevel)")
    }()

    /// Runs the choice (once); every entry to BLAS calls this first.
    @inline(__always)
    public static func prepare() { _ = report }

    /// Lines for `nsi doctor` and benchmark headers.
    public static var summary: String {
        let r = report
        return """
        cpu: \(r.cpu.brand.isEmpty ? "unknown" : r.cpu.brand) (\(r.cpu.vendor), family \(r.cpu.family) model \(r.cpu.model))
        features: \(r.cpu.flags.isEmpty ? "none detected" : r.cpu.flags.joined(separator: " "))
        blas: \(r.library.isEmpty ? "unknown" : r.library)
        blas core: \(r.core.isEmpty ? "unknown" : r.core) (\(r.reason))
        threads: \(r.threads) (products split by nsi; OpenBLAS single-threaded per call)
        kernels: \(SmallGemm.levelName) (nsi's own few-row products)
        """
    }
}
