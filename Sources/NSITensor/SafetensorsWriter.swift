import Foundation
import NSIJSON

/// Writes tensors to a safetensors file. The file appears whole or not at all: it is
/// written beside the target and renamed into place.
public enum SafetensorsWriter {
    /// `tensors` keep their order in the data section; `storeAs` converts f32 tensors
    /// to f16 or bf16 on the way out.
    public static func write(_ tensors: [(String, Tensor)], metadata: [String: String] = [:],
                             to path: String, storeAs: DType? = nil) throws {
        let data = try encode(tensors, metadata: metadata, storeAs: storeAs)
        let url = URL(fileURLWithPath: path)
        let tmp = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
        do {
            try data.write(to: tmp)
            // rename(2) replaces the target atomically.
            guard rename(tmp.path, path) == 0 else {
                throw TensorError(String(cString: strerror(errno)))
            }
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw SafetensorsError(path, "cannot write: \(error.localizedDescription)")
        }
    }

    /// The file's bytes.
    public static func encode(_ tensors: [(String, Tensor)], metadata: [String: String] = [:],
                              storeAs: DType? = nil) throws -> Data {
        var names = Set<String>()
        var header: [String] = []
        var body = Data()
        for (name, tensor) in tensors {
            guard names.insert(name).inserted, name != "__metadata__" else {
                throw SafetensorsError("<output>", "duplicate or reserved tensor name \"\(name)\"")
            }
            let dtype: DType = (tensor.dtype == .f32 ? storeAs : nil) ?? tensor.dtype
            let begin = body.count
            body.append(bytes(of: tensor, as: dtype))
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            header.append("\(JSONValue.quote(name)):{\"dtype\":\"\(dtype.safetensorsName)\",\"shape\":[\(shape)],\"data_offsets\":[\(begin),\(body.count)]}")
        }
        if !metadata.isEmpty {
            let fields = metadata.keys.sorted().map { "\(JSONValue.quote($0)):\(JSONValue.quote(metadata[$0]!))" }
            header.insert("\"__metadata__\":{\(fields.joined(separator: ","))}", at: 0)
        }
        var json = Data(("{" + header.joined(separator: ",") + "}").utf8)
        // Pad so the data section starts 8-byte aligned and f32 views need no copy.
        while (8 + json.count) % 8 != 0 { json.append(0x20) }
        var out = Data()
        var n = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
        out.append(json)
        out.append(body)
        return out
    }

    static func bytes(of tensor: Tensor, as dtype: DType) -> Data {
        let t = tensor.contiguous()
        switch (t.dtype, dtype) {
        case (.f32, .f16), (.f32, .bf16):
            var bits = [UInt16]()
            bits.reserveCapacity(t.count)
            for v in t.toFloats() { bits.append((dtype == .f16 ? encodeF16(v) : encodeBF16(v)).littleEndian) }
            return bits.withUnsafeBytes { Data($0) }
        default:
            return Data(bytes: t.storage.base + t.offset * t.dtype.size, count: t.count * t.dtype.size)
        }
    }
}

/// The tensors of a model folder: one `model.safetensors`, or shards listed by
/// `model.safetensors.index.json`'s `weight_map`.
public final class SafetensorsArchive: @unchecked Sendable {
    public let files: [SafetensorsFile]
    private let location: [String: SafetensorsFile]

    public init(directory: String) throws {
        let fm = FileManager.default
        let index = (directory as NSString).appendingPathComponent("model.safetensors.index.json")
        let single = (directory as NSString).appendingPathComponent("model.safetensors")
        if fm.fileExists(atPath: index) {
            guard let data = fm.contents(atPath: index) else { throw SafetensorsError(index, "cannot read") }
            let json: JSONValue
            do { json = try JSONValue.parse(data) } catch {
                throw SafetensorsError(index, "not valid JSON: \(SafetensorsHeader.describe(error))")
            }
            guard let map = json.dictionary?["weight_map"]?.dictionary else {
                throw SafetensorsError(index, "has no \"weight_map\" object")
            }
            var shards: [String: SafetensorsFile] = [:]
            var location: [String: SafetensorsFile] = [:]
            for (name, value) in map.sorted(by: { $0.key < $1.key }) {
                guard let shard = value.stringValue, !shard.contains("/"), !shard.hasPrefix(".") else {
                    throw SafetensorsError(index, "weight_map entry \"\(name)\" is not a shard file name in this folder")
                }
                if shards[shard] == nil {
                    shards[shard] = try SafetensorsFile(path: (directory as NSString).appendingPathComponent(shard))
                }
                guard let file = shards[shard], file.entry(name) != nil else {
                    throw SafetensorsError(index, "tensor \"\(name)\" is listed in \(shard) but not found there")
                }
                location[name] = file
            }
            files = shards.keys.sorted().compactMap { shards[$0] }
            self.location = location
        } else if fm.fileExists(atPath: single) {
            let file = try SafetensorsFile(path: single)
            files = [file]
            location = Dictionary(file.names.map { ($0, file) }, uniquingKeysWith: { a, _ in a })
        } else {
            throw SafetensorsError(directory, "no model.safetensors or model.safetensors.index.json in this folder")
        }
    }

    public var names: [String] { location.keys.sorted() }
    public func entry(_ name: String) -> SafetensorsEntry? { location[name]?.entry(name) }
    public func contains(_ name: String) -> Bool { location[name] != nil }

    public func tensor(_ name: String, keepingWidth: Bool = false) throws -> Tensor {
        guard let file = location[name] else { throw SafetensorsError(files.first?.path ?? "model", "no tensor named \"\(name)\"") }
        return try file.tensor(name, keepingWidth: keepingWidth)
    }
}
