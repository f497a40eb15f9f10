import Foundation
import Testing
@testable import NSITensor

/// Bytes of a tensor's memory that are resident, by `mincore` on its own pages: a
/// measure of this mapping alone, whatever else the test process loads meanwhile.
func residentBytes(of t: Tensor) -> Int {
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    let start = Int(bitPattern: t.storage.base) + t.offset * t.dtype.size
    let first = start / page * page
    let length = start + t.count * t.dtype.size - first
    let pages = (length + page - 1) / page
    var vector = [UInt8](repeating: 0, count: pages)
    guard mincore(UnsafeMutableRawPointer(bitPattern: first), length, &vector) == 0 else { return -1 }
    return vector.filter { $0 & 1 != 0 }.count * page
}

@Suite struct MemoryTests {
    /// A 512 MB f32 file: opening it and taking tensor views keeps resident memory far
    /// below the file size; only touching the values brings pages in.
    @Test func mappedTensorsCostNothingUntilRead() throws {
        let dir = temporaryDirectory()
        let path = dir.appendingPathComponent("big.safetensors").path
        let count = 128 << 20  // 128 Mi floats = 512 MiB, in four tensors
        let quarter = count / 4
        var header = "{"
        for i in 0..<4 {
            header += "\"t\(i)\":{\"dtype\":\"F32\",\"shape\":[\(quarter)],\"data_offsets\":[\(i * quarter * 4),\((i + 1) * quarter * 4)]}" + (i < 3 ? "," : "")
        }
        header += "}"
        while (8 + header.utf8.count) % 8 != 0 { header += " " }
        // Sparse file: the data section is a hole, so writing the test file costs no disk.
        #expect(FileManager.default.createFile(atPath: path, contents: rawSafetensors(header, data: [])))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: UInt64(8 + header.utf8.count + count * 4))
        try handle.close()

        let file = try SafetensorsFile(path: path)
        let tensors = try (0..<4).map { try file.tensor("t\($0)") }
        #expect(tensors.allSatisfy { $0.count == quarter })
        let opened = tensors.map(residentBytes(of:))
        print("memory: 512 MiB file opened, resident \(opened.map { $0 >> 20 }) MiB of its four tensors")
        #expect(opened.allSatisfy { $0 >= 0 && $0 < 8 << 20 })

        // Reading one quarter brings in that quarter, not the others (the kernel's readahead
        // may bring a few MiB of the next one: measured 16).
        let s = tensors[0].sum().item()
        #expect(s == 0)
        let read = tensors.map(residentBytes(of:))
        print("memory: after reading the first 128 MiB, resident \(read.map { $0 >> 20 }) MiB of its four tensors")
        #expect(read[0] >= 120 << 20)
        #expect(read.dropFirst().allSatisfy { $0 >= 0 && $0 < 64 << 20 })
        try? FileManager.default.removeItem(atPath: path)
    }
}
