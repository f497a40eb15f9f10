import Foundation

/// The base protocol's framing over a byte stream: header lines up to an empty line
/// (`Content-Length: N` is required; other headers are ignored), then N bytes of JSON.
/// Reads what the stream has, however it arrives (a message split over reads, several in
/// one), and never blocks when asked whether a whole message is already there.
public final class MessageReader {
    public enum Frame {
        /// A message body.
        case message([UInt8])
        /// Headers without a usable `Content-Length`: skipped, with what was wrong.
        case malformed(String)
    }

    private let fd: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    private(set) var atEnd = false
    /// The largest body accepted (a document of tens of megabytes is not a script).
    static let maxBody = 64 << 20

    public init(fd: Int32) { self.fd = fd }

    /// The next frame, reading as needed; nil at the end of the stream.
    public func next() -> Frame? {
        while true {
            if let frame = takeFrame() { return frame }
            if atEnd { return nil }
            fill(blocking: true)
        }
    }

    /// Whether a whole frame is buffered or arrives without waiting (for debouncing: work
    /// waits while more messages are queued).
    func hasFrameReady() -> Bool {
        if frameEnd() != nil { return true }
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, 0) > 0 else { return false }
        fill(blocking: false)
        return frameEnd() != nil || atEnd
    }

    private func fill(blocking: Bool) {
        if start > 0 && start * 2 > buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n > 0 { buffer.append(contentsOf: chunk[0..<n]) } else if n == 0 || errno != EINTR { atEnd = true }
    }

    /// Where the header block ends (after its empty line) and the body's length, or why
    /// the headers are unusable; nil while incomplete.
    private func frameEnd() -> (headerEnd: Int, length: Int?, problem: String?)? {
        guard let end = headerEnd() else { return nil }
        let text = String(decoding: buffer[start..<end], as: UTF8.self)
        var length: Int?
        for line in text.split(whereSeparator: \.isNewline) {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces).lowercased() == "content-length" else { continue }
            length = Int(parts[1].trimmingCharacters(in: .whitespaces))
            if length == nil { return (end, nil, "Content-Length is not a number: \(parts[1].trimmingCharacters(in: .whitespaces))") }
        }
        guard let length else { return (end, nil, "a message without Content-Length") }
        guard length >= 0 && length <= Self.maxBody else { return (end, nil, "Content-Length \(length) is out of range") }
        return buffer.count - end >= length ? (end, length, nil) : nil
    }

    private func takeFrame() -> Frame? {
        guard let (end, length, problem) = frameEnd() else {
            // At the end of the stream a partial frame is dropped.
            if atEnd { start = buffer.count }
            return nil
        }
        if let problem {
            start = end
            return .malformed(problem)
        }
        let body = Array(buffer[end..<(end + length!)])
        start = end + length!
        return .message(body)
    }

    /// The offset just past `\r\n\r\n` (or `\n\n`) after `start`.
    private func headerEnd() -> Int? {
        var i = start
        while i + 1 < buffer.count {
            if buffer[i] == 10 {
                if buffer[i + 1] == 10 { return i + 2 }
                if buffer[i + 1] == 13, i + 2 < buffer.count, buffer[i + 2] == 10 { return i + 3 }
            }
            i += 1
        }
        return nil
    }
}

/// Writes framed messages; one writer per stream, serialized by a lock.
final class MessageWriter: @unchecked Sendable {
    private let fd: Int32
    private let lock = NSLock()

    init(fd: Int32) { self.fd = fd }

    func send(_ json: String) {
        let body = Array(json.utf8)
        let bytes = Array("Content-Length: \(body.count)\r\n\r\n".utf8) + body
        lock.lock()
        defer { lock.unlock() }
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
    }
}
