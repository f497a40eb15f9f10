import Foundation
import Testing
@testable import NSITensor
import NSITestSupport

/// Builds a safetensors file from a raw header string and a data section.
func rawSafetensors(_ header: String, data: [UInt8]) -> Data {
    var out = Data()
    var n = UInt64(header.utf8.count).littleEndian
    withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
    out.append(Data(header.utf8))
    out.append(contentsOf: data)
    return out
}

func parseHeader(_ data: Data) throws -> SafetensorsHeader {
    try data.withUnsafeBytes { try SafetensorsHeader(bytes: $0, path: "test.safetensors") }
}

@Suite struct SafetensorsTests {
    @Test func roundTripsEveryDType() throws {
        let dir = temporaryDirectory()
        let path = dir.appendingPathComponent("t.safetensors").path
        let a = Tensor(shape: [2, 3], floats: [1, -2, 3.5, 0, 1e-3, 65504])
        let i = Tensor(shape: [3], int32s: [1, -7, 1 << 30])
        let l = Tensor(shape: [2], int64s: [-1, 1 << 40])
        try SafetensorsWriter.write([("a", a), ("ids", i), ("long", l), ("view", a.mT)],
                                    metadata: ["format": "pt", "note": "quote \" here"], to: path)
        let f = try SafetensorsFile(path: path)
        #expect(f.metadata == ["format": "pt", "note": "quote \" here"])
        #expect(Set(f.names) == ["a", "ids", "long", "view"])
        #expect(try f.tensor("a").toFloats() == a.toFloats())
        #expect(try f.tensor("a").storage.base != a.storage.base)  // read from the mapping
        #expect(try f.tensor("ids").toInt32s() == [1, -7, 1 << 30])
        #expect(try f.tensor("long").toInt64s() == [-1, 1 << 40])
        #expect(try f.tensor("view").shape == [3, 2])
        #expect(try f.tensor("view").toFloats() == a.mT.toFloats())
        #expect(throws: SafetensorsError.self) { try f.tensor("missing") }

        for storeAs in [DType.f16, .bf16] {
            let p = dir.appendingPathComponent("h-\(storeAs).safetensors").path
            try SafetensorsWriter.write([("a", a)], to: p, storeAs: storeAs)
            let g = try SafetensorsFile(path: p)
            #expect(g.entry("a")?.dtype == storeAs)
            let back = try g.tensor("a")
            #expect(back.dtype == .f32)
            let tolerance: Float = storeAs == .f16 ? 1e-3 : 1e-2
            #expect(maxRelDiff(back.toFloats(), a.toFloats()) < tolerance)
        }
    }

    /// The tiny models stored in f32 read correctly: every tensor's values equal the bytes at
    /// its range, located here by independent arithmetic on the header.
    @Test(arguments: Fixtures.tinyModelsStoredInF32)
    func readsTinyModels(name: String) throws {
        let path = Fixtures.path("tiny/\(name)/model.safetensors")
        let f = try SafetensorsFile(path: path)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let headerLength = Int(bytes.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        let json = try JSONSerialization.jsonObject(with: bytes.subdata(in: 8..<(8 + headerLength))) as! [String: Any]
        #expect(f.names.count == json.keys.filter { $0 != "__metadata__" }.count)
        #expect(f.names.count > 10)
        for name in f.names {
            let e = try #require(json[name] as? [String: Any])
            let offsets = try #require(e["data_offsets"] as? [Int])
            let t = try f.tensor(name)
            #expect(t.shape == e["shape"] as? [Int])
            let start = 8 + headerLength + offsets[0]
            let raw = bytes.subdata(in: start..<(8 + headerLength + offsets[1]))
            let expected: [Float] = raw.withUnsafeBytes { p in (0..<(raw.count / 4)).map { p.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) } }
            #expect(t.toFloats() == expected, "\(name)")
        }
    }

    @Test func shardedCheckpointsResolveThroughTheIndex() throws {
        let dir = temporaryDirectory()
        try SafetensorsWriter.write([("x", Tensor(shape: [2], floats: [1, 2]))], to: dir.appendingPathComponent("part-1.safetensors").path)
        try SafetensorsWriter.write([("y", Tensor(shape: [1], floats: [3]))], to: dir.appendingPathComponent("part-2.safetensors").path)
        let index = #"{"metadata": {}, "weight_map": {"x": "part-1.safetensors", "y": "part-2.safetensors"}}"#
        try index.write(to: dir.appendingPathComponent("model.safetensors.index.json"), atomically: true, encoding: .utf8)
        let archive = try SafetensorsArchive(directory: dir.path)
        #expect(archive.names == ["x", "y"])
        #expect(try archive.tensor("y").toFloats() == [3])
        #expect(archive.files.count == 2)

        let bad = #"{"weight_map": {"x": "part-2.safetensors"}}"#
        try bad.write(to: dir.appendingPathComponent("model.safetensors.index.json"), atomically: true, encoding: .utf8)
        #expect { try SafetensorsArchive(directory: dir.path) } throws: { ($0 as? SafetensorsError)?.message.contains("not found there") == true }
        let escape = #"{"weight_map": {"x": "../elsewhere.safetensors"}}"#
        try escape.write(to: dir.appendingPathComponent("model.safetensors.index.json"), atomically: true, encoding: .utf8)
        #expect(throws: SafetensorsError.self) { try SafetensorsArchive(directory: dir.path) }
        #expect { try SafetensorsArchive(directory: temporaryDirectory().path) } throws: { "\($0)".contains("no model.safetensors") }
    }

    /// Each validation rule gives its own message.
    @Test(arguments: [
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, 8, ""),
        (#"{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}"#, 8, "unsupported dtype F64"),
        (#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, 8, "needs 12"),
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}}"#, 8, "outside the data section"),
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#, 8, "outside the data section"),
        (#"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, 8, "bad dimension"),
        (#"{"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}"#, 8, "bad dimension"),
        (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}"#, 8, "overlap"),
        (#"{"a":{"dtype":"F32","shape":[2]}}"#, 8, "no data_offsets"),
        (#"{"a":{"shape":[2],"data_offsets":[0,8]}}"#, 8, "no dtype"),
        (#"{"a":[1,2]}"#, 8, "expected an object"),
        (#"[1,2]"#, 8, "expected a JSON object"),
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#, 8, "not valid JSON"),
        (#"{"__metadata__":{"k":1}}"#, 0, "expected a string"),
        (#"{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}"#, 8, "bad dimension"),
    ])
    func validationErrors(header: String, dataBytes: Int, expected: String) throws {
        let data = rawSafetensors(header, data: [UInt8](repeating: 0, count: dataBytes))
        if expected.isEmpty {
            _ = try parseHeader(data)
        } else {
            #expect { try parseHeader(data) } throws: { error in
                let text = "\(error)"
                return text.contains(expected) && text.hasPrefix("test.safetensors: ")
            }
        }
    }

    @Test func lengthPrefixErrors() throws {
        #expect { try parseHeader(Data([1, 2, 3])) } throws: { "\($0)".contains("too short") }
        var huge = Data(count: 16)
        huge[7] = 0x7F
        #expect { try parseHeader(huge) } throws: { "\($0)".contains("exceeds the limit") }
        var past = Data(count: 16)
        past[0] = 200
        #expect { try parseHeader(past) } throws: { "\($0)".contains("runs past the end") }
    }

    @Test func missingAndNonRegularFiles() {
        #expect { try SafetensorsFile(path: "/nonexistent/x.safetensors") } throws: { "\($0)".contains("/nonexistent/x.safetensors: cannot open") }
        #expect { try SafetensorsFile(path: temporaryDirectory().path) } throws: { "\($0)".contains("not a regular file") }
    }

    @Test func writerLeavesNothingHalfWritten() throws {
        let dir = temporaryDirectory()
        let path = dir.appendingPathComponent("out.safetensors").path
        try SafetensorsWriter.write([("a", Tensor(scalar: 1))], to: path)
        try SafetensorsWriter.write([("a", Tensor(scalar: 2))], to: path)
        #expect(try SafetensorsFile(path: path).tensor("a").item() == 2)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["out.safetensors"])
        #expect(throws: SafetensorsError.self) {
            try SafetensorsWriter.write([("a", Tensor(scalar: 1)), ("a", Tensor(scalar: 2))], to: path)
        }
        #expect(throws: SafetensorsError.self) {
            try SafetensorsWriter.write([("a", Tensor(scalar: 1))], to: dir.appendingPathComponent("no/such/dir.safetensors").path)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["out.safetensors"])
    }
}
