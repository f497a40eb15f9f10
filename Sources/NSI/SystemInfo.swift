import NSITensor

/// What this machine gives nsi's kernels, as `nsi doctor` prints it: the processor and
/// its features, the BLAS library and the kernel set every matmul runs (chosen on first
/// use, see `BLASSetup`), and the thread count.
public var systemInfo: String { BLASSetup.summary }
