#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A block of bytes that tensors view. Either owned (allocated here, 64-byte aligned,
/// zero-filled) or borrowed from a longer-lived owner such as a memory-mapped file.
public final class TensorStorage: @unchecked Sendable {
    public let base: UnsafeMutableRawPointer
    public let byteCount: Int
    private let owner: AnyObject?
    private enum Ownership { case borrowed, allocated, mapped(Int) }
    private let ownership: Ownership

    /// Allocates `byteCount` zeroed bytes. `fresh`: as new anonymous pages, which the
    /// kernel zeroes when each is first touched: cheaper for a large block of which little
    /// is written, dearer (a fault per page) for one written whole. `zeroed: false` leaves
    /// the bytes as they are, for an output every byte of which is written next.
    public init(byteCount: Int, fresh: Bool = false, zeroed: Bool = true) {
        let count = max(byteCount, 1)
        owner = nil
        self.byteCount = byteCount
        if fresh, let p = mmap(nil, count, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), p != MAP_FAILED {
            base = p
            ownership = .mapped(count)
            return
        }
        var raw: UnsafeMutableRawPointer?
        let rc = posix_memalign(&raw, 64, count)
        guard rc == 0, let raw else { fatalError("out of memory allocating \(byteCount) bytes") }
        if zeroed { memset(raw, 0, count) }
        base = raw
        ownership = .allocated
    }

    /// Borrows bytes kept alive by `owner` (for example a `MappedFile`).
    public init(borrowing base: UnsafeMutableRawPointer, byteCount: Int, owner: AnyObject) {
        self.base = base
        self.byteCount = byteCount
        self.owner = owner
        ownership = .borrowed
    }

    deinit {
        switch ownership {
        case .allocated: free(base)
        case .mapped(let count): munmap(base, count)
        case .borrowed: break
        }
    }
}

/// A read-only file mapped privately into memory: pages are read from disk only when
/// touched, and a write (never done for weights) would copy the page, not change the file.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let base: UnsafeMutableRawPointer
    public let size: Int

    public init(path: String) throws {
        self.path = path
        // Non-blocking: opening a FIFO or device must not wait for a writer; anything but a
        // regular file is refused below.
        let fd = open(path, O_RDONLY | O_NONBLOCK)
        guard fd >= 0 else {
            throw TensorError("\(path): cannot open: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw TensorError("\(path): cannot stat: \(String(cString: strerror(errno)))")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw TensorError("\(path): not a regular file")
        }
        size = Int(st.st_size)
        if size == 0 {
            // mmap refuses empty mappings; keep a valid pointer to nothing.
            base = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 64)
            return
        }
        let mapped = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0)
        guard let mapped, mapped != MAP_FAILED else {
            throw TensorError("\(path): cannot map: \(String(cString: strerror(errno)))")
        }
        base = mapped
    }

    deinit {
        if size == 0 { base.deallocate() } else { munmap(base, size) }
    }
}
