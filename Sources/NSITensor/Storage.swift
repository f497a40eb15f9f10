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

    /// From this size on, zeroed bytes are fresh anonymous pages: the kernel zeroes a page
    /// when it is first touched, so a large tensor of which little is written (the logits
    /// of a pass that reads a few positions) costs only what is written.
    static let mappedFrom = 1 << 20

    /// Allocates `byteCount` zeroed bytes.
    public init(byteCount: Int) {
        let count = max(byteCount, 1)
        owner = nil
        self.byteCount = byteCount
        if count >= Self.mappedFrom, let p = mmap(nil, count, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
           p != MAP_FAILED {
            base = p
            ownership = .mapped(count)
            return
        }
        var raw: UnsafeMutableRawPointer?
        let rc = posix_memalign(&raw, 64, count)
        guard rc == 0, let raw else { fatalError("out of memory allocating \(byteCount) bytes") }
        memset(raw, 0, count)
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
        let fd = open(path, O_RDONLY)
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
