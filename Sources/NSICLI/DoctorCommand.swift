import ArgumentParser
import NSI

/// What this machine gives nsi's kernels: the processor's features, the BLAS library and
/// the kernel set every matmul runs, and the thread count.
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Print the CPU's features, the BLAS library and kernel set in use, and the thread count.")

    func run() throws {
        print("nsi \(NSI.version)")
        print(NSI.systemInfo)
    }
}
