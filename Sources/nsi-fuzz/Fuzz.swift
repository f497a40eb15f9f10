import Foundation
import NSI
import NSIBytecode
import NSIIR
import NSIRuntime
import NSIVM

// The coverage-guided fuzz target of the plan reader, verifier and VM (libFuzzer). Built
// only with NSI_FUZZ=1 and the fuzzer sanitizer (Scripts/fuzz). Each input is a plan
// body (the bytes inside a plan's container; mutations reach the reader and verifier
// instead of the checksum) or, when it starts with the container's magic, whole plan
// bytes. A plan that verifies runs on the model under tight limits. It must complete or
// stop with a VM error that is not internal: anything else, a trap, or a sanitizer
// report is a crash libFuzzer keeps.

final class FuzzState: @unchecked Sendable {
    let target: PlanTarget
    let hash: String
    let vm: VM
    var tried = 0, verified = 0, completed = 0
    var stopped: [String: Int] = [:]

    init() {
        let directory = ProcessInfo.processInfo.environment["NSI_FUZZ_MODEL"] ?? "models/smollm2-135m"
        let model: LanguageModel
        do {
            model = try LanguageModel(directory: directory)
        } catch {
            FileHandle.standardError.write(Data("nsi-fuzz: cannot load \(directory) (set NSI_FUZZ_MODEL): \(error)\n".utf8))
            exit(2)
        }
        target = PlanTarget(model.signature)
        hash = model.signature.hash
        vm = VM(model: model, limits: VMLimits(maxSavedBytes: 16 << 20, maxRegisterBytes: 256 << 20, maxGeneratedTokens: 8,
                                               maxInstructions: 100_000, deadline: 1))
    }

    func summary() -> String {
        "nsi-fuzz: \(tried) plans tried, \(verified) verified, \(completed) completed, stopped: "
            + stopped.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    }
}

nonisolated(unsafe) private var state: FuzzState?

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    state = FuzzState()
    atexit {
        if let state { FileHandle.standardError.write(Data((state.summary() + "\n").utf8)) }
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafeRawPointer, _ count: Int) -> Int32 {
    guard let state else { return 0 }
    state.tried += 1
    let bytes = Array(UnsafeRawBufferPointer(start: data, count: count))
    let program: Program
    do {
        if Bytecode.looksLikePlan(Data(bytes)) {
            program = try Bytecode.decode(Data(bytes), for: state.target)
        } else {
            program = try Bytecode.decode(body: bytes, signatureHash: state.hash, for: state.target)
        }
    } catch {
        return 0
    }
    state.verified += 1
    do {
        _ = try state.vm.run(program)
        state.completed += 1
    } catch let error as VMError {
        if error.kind == .internal { fatalError("a verified plan reached an internal error: \(error)") }
        state.stopped["\(error.kind)".replacingOccurrences(of: "NSIVM.VMLimit.", with: ""), default: 0] += 1
    } catch {
        fatalError("a verified plan threw \(type(of: error)): \(error)")
    }
    return 0
}

// SwiftPM links an executable's entry point as `<module>_main`; it hands over to
// libFuzzer's driver (whose own `main` is then not linked in).
@_silgen_name("LLVMFuzzerRunDriver")
private func runDriver(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                       _ callback: @convention(c) (UnsafeRawPointer, Int) -> Int32) -> Int32

@_cdecl("nsi_fuzz_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return runDriver(&count, &arguments) { data, size in testOneInput(data, size) }
}
