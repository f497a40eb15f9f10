import Foundation
import NSIJSON

/// A safetensors file's problem, naming the file and what is wrong.
public struct SafetensorsError: Error, CustomStringConvertible, Equatable, Sendable {
    public let path: String
    public let message: String
    public init(_ path: String, _ message: String) { self.path = path; self.message = message }
    public var description: String { "\(path): \(message)" }
}

/// One tensor's header entry: dtype, shape, and its byte range within the data section.
public struct SafetensorsEntry: Sendable, Equatable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    public let dataRange: Range<Int>
}

/// The parsed and validated header of a safetensors file:
/// 8 bytes of little-endian header length, a JSON object header, then the data.
public struct SafetensorsHeader: Sendable {
    /// Largest header accepted; real headers are kilobytes.
    public static let maxHeaderBytes = 100 << 20

    public let entries: [SafetensorsEntry]   // sorted by data offset
    public let metadata: [String: String]
    public let dataStart: Int

    /// Validates everything before any tensor is touched: header length bounded, JSON
    /// well formed, known dtypes, shape × dtype size equal to the byte range, ranges
    /// inside the file and not overlapping.
    public init(bytes: UnsafeRawBufferPointer, path: String) throws {
        func fail(_ m: String) -> SafetensorsError { SafetensorsError(path, m) }
        let fileSize = bytes.count
        guard fileSize >= 8 else {
            throw fail("file is \(fileSize) bytes, too short for the 8-byte header length")
        }
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard n <= UInt64(SafetensorsHeader.maxHeaderBytes) else {
            throw fail("header length \(n) exceeds the limit of \(SafetensorsHeader.maxHeaderBytes) bytes")
        }
        guard n <= UInt64(fileSize - 8) else {
            throw fail("header length \(n) runs past the end of the file (\(fileSize) bytes); the file is truncated or not safetensors")
        }
        let headerLength = Int(n)
        dataStart = 8 + headerLength
        let dataSize = fileSize - dataStart
        let headerData = Data(bytes[8..<dataStart])
        let json: JSONValue
        do {
            json = try JSONValue.parse(headerData)
        } catch {
            throw fail("header is not valid JSON: \(SafetensorsHeader.describe(error))")
        }
        guard let object = json.dictionary else {
            throw fail("header is \(json.kindName), expected a JSON object")
        }
        var metadata: [String: String] = [:]
        var entries: [SafetensorsEntry] = []
        for (name, value) in object {
            if name == "__metadata__" {
                guard let m = value.dictionary else { throw fail("__metadata__ is \(value.kindName), expected an object of strings") }
                for (k, v) in m {
                    guard let s = v.stringValue else { throw fail("__metadata__ entry \"\(k)\" is \(v.kindName), expected a string") }
                    metadata[k] = s
                }
                continue
            }
            entries.append(try SafetensorsHeader.entry(name: name, value: value, dataSize: dataSize, fail: fail))
        }
        entries.sort { ($0.dataRange.lowerBound, $0.dataRange.upperBound, $0.name) < ($1.dataRange.lowerBound, $1.dataRange.upperBound, $1.name) }
        for (a, b) in zip(entries, entries.dropFirst()) where b.dataRange.lowerBound < a.dataRange.upperBound {
            throw fail("tensors \"\(a.name)\" (bytes \(a.dataRange)) and \"\(b.name)\" (bytes \(b.dataRange)) overlap")
        }
        self.entries = entries
        self.metadata = metadata
    }

    private static func entry(name: String, value: JSONValue, dataSize: Int,
                              fail: (String) -> SafetensorsError) throws -> SafetensorsEntry {
        guard let fields = value.dictionary else { throw fail("tensor \"\(name)\" is \(value.kindName), expected an object") }
        guard let dtypeName = fields["dtype"]?.stringValue else { throw fail("tensor \"\(name)\" has no dtype string") }
        guard let dtype = DType(safetensorsName: dtypeName) else {
            let known = DType.allCases.map(\.safetensorsName).joined(separator: ", ")
            throw fail("tensor \"\(name)\" has unsupported dtype \(dtypeName) (supported: \(known))")
        }
        guard let shapeValues = fields["shape"]?.arrayValue else { throw fail("tensor \"\(name)\" has no shape array") }
        guard shapeValues.count <= 16 else { throw fail("tensor \"\(name)\" has rank \(shapeValues.count), more than 16") }
        var shape: [Int] = []
        var elements = 1
        for v in shapeValues {
            guard let d = v.intValue, d >= 0, d <= Int64(Int32.max) else {
                throw fail("tensor \"\(name)\" has a bad dimension \(v) in its shape (expected a non-negative integer)")
            }
            shape.append(Int(d))
            let (p, overflow) = elements.multipliedReportingOverflow(by: Int(d))
            guard !overflow, p <= Int(Int64.max) / 8 else { throw fail("tensor \"\(name)\" shape \(describeShape(shape)) is too large") }
            elements = p
        }
        guard let offsets = fields["data_offsets"]?.arrayValue, offsets.count == 2,
              let begin = offsets[0].intValue, let end = offsets[1].intValue else {
            throw fail("tensor \"\(name)\" has no data_offsets pair of integers")
        }
        guard begin >= 0, begin <= end, end <= Int64(dataSize) else {
            throw fail("tensor \"\(name)\" data_offsets [\(begin), \(end)] fall outside the data section of \(dataSize) bytes")
        }
        let expected = elements * dtype.size
        guard end - begin == Int64(expected) else {
            throw fail("tensor \"\(name)\" holds \(end - begin) bytes, but \(dtypeName) \(describeShape(shape)) needs \(expected)")
        }
        return SafetensorsEntry(name: name, dtype: dtype, shape: shape, dataRange: Int(begin)..<Int(end))
    }

    static func describe(_ error: Error) -> String {
        if let e = error as? DecodingError {
            switch e {
            case .dataCorrupted(let c): return c.underlyingError.map { "\($0)" } ?? c.debugDescription
            case .typeMismatch(_, let c), .valueNotFound(_, let c), .keyNotFound(_, let c): return c.debugDescription
            @unknown default: return "\(e)"
            }
        }
        return "\(error)"
    }
}

/// A safetensors file mapped into memory. f32 tensors are views into the mapping:
/// nothing is read from disk until a tensor's pages are touched.
public final class SafetensorsFile: @unchecked Sendable {
    public let path: String
    public let header: SafetensorsHeader
    private let map: MappedFile
    private let byName: [String: SafetensorsEntry]

    public init(path: String) throws {
        self.path = path
        do {
            map = try MappedFile(path: path)
        } catch let e as TensorError {
            throw SafetensorsError(path, e.message.replacingOccurrences(of: "\(path): ", with: ""))
        }
        header = try SafetensorsHeader(bytes: UnsafeRawBufferPointer(start: map.base, count: map.size), path: path)
        byName = Dictionary(header.entries.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    }

    public var names: [String] { header.entries.map(\.name) }
    public var metadata: [String: String] { header.metadata }
    public func entry(_ name: String) -> SafetensorsEntry? { byName[name] }

    /// The tensor `name`: f32 and integers as zero-copy views; f16/bf16 decoded to f32,
    /// or with `keepingWidth` kept as zero-copy views at their stored width.
    public func tensor(_ name: String, keepingWidth: Bool = false) throws -> Tensor {
        guard let e = byName[name] else { throw SafetensorsError(path, "no tensor named \"\(name)\"") }
        let start = map.base + header.dataStart + e.dataRange.lowerBound
        let count = e.shape.reduce(1, *)
        let strides = Tensor.contiguousStrides(e.shape)
        switch e.dtype {
        case .f16 where !keepingWidth, .bf16 where !keepingWidth:
            let out = Tensor(zeros: e.shape, dtype: .f32)
            let dst = out.floatPointer
            for i in 0..<count {
                let bits = start.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)
                dst[i] = e.dtype == .f16 ? decodeF16(UInt16(littleEndian: bits)) : decodeBF16(UInt16(littleEndian: bits))
            }
            return out
        default:
            if Int(bitPattern: start) % e.dtype.size == 0 {
                let storage = TensorStorage(borrowing: start, byteCount: e.dataRange.count, owner: map)
                return Tensor(storage: storage, dtype: e.dtype, shape: e.shape, strides: strides)
            }
            // A misaligned range (legal in the format) is copied rather than read unaligned.
            let out = Tensor(zeros: e.shape, dtype: e.dtype)
            out.storage.base.copyMemory(from: start, byteCount: e.dataRange.count)
            return out
        }
    }
}
