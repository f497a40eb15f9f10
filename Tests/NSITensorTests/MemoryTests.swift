import Foundation
import Testing
@testable import NSITensor

/// Resident memory in bytes, from /proc/self/statm (Linux).
func residentBytes() -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

@Suite struct MemoryTests {
    /// A 512 MB f32 file: opening it and taking tensor views keeps resident memory far
    /// below the file size; only touching the values brings pages in.
    @Test func mappedTensorsCostNothingUntilRead() throws {
        guard residentBytes() != nil else { return }
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

        let before = residentBytes()!
        let file = try SafetensorsFile(path: path)
        let tensors = try (0..<4).map { try file.tensor("t\($0)") }
        let afterOpen = residentBytes()!
        #expect(tensors.allSatisfy { $0.count == quarter })
        let openCost = afterOpen - before
        print("memory: 512 MiB file opened, resident +\(openCost >> 20) MiB")
        #expect(openCost < 32 << 20)

        // Reading one quarter brings in about that quarter, not the whole file.
        let s = tensors[0].sum().item()
        #expect(s == 0)
        let afterRead = residentBytes()!
        print("memory: after reading 128 MiB, resident +\((afterRead - before) >> 20) MiB")
        #expect(afterRead - before < 256 << 20)
        try? FileManager.default.removeItem(atPath: path)
    }
}
