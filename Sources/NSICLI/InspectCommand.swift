import ArgumentParser
import Foundation
import NSIJSON
import NSITensor

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "List the tensors of a safetensors file (or model folder): names, dtypes, shapes.")

    @Argument(help: "A .safetensors file, or a folder with model.safetensors or a sharded index.")
    var path: String

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func run() throws {
        try runReportingErrors { print(try Self.render(path: path, json: json), terminator: "") }
    }

    static func render(path: String, json: Bool) throws -> String {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw CLIError("\(path): no such file or folder")
        }
        var entries: [SafetensorsEntry] = []
        var metadata: [String: String] = [:]
        if isDir.boolValue {
            let archive = try SafetensorsArchive(directory: path)
            entries = archive.names.compactMap { archive.entry($0) }
            for f in archive.files { metadata.merge(f.metadata) { a, _ in a } }
        } else {
            let file = try SafetensorsFile(path: path)
            entries = file.header.entries.sorted { $0.name < $1.name }
            metadata = file.metadata
        }
        if json {
            let items = entries.map { e in
                "{\"name\":\(JSONValue.quote(e.name)),\"dtype\":\"\(e.dtype.safetensorsName)\",\"shape\":[\(e.shape.map(String.init).joined(separator: ","))],\"bytes\":\(e.dataRange.count)}"
            }
            return "[" + items.joined(separator: ",\n ") + "]\n"
        }
        let nameWidth = min(max(entries.map(\.name.count).max() ?? 4, 4), 72)
        var out = ""
        for (k, v) in metadata.sorted(by: { $0.key < $1.key }) { out += "# \(k): \(v)\n" }
        out += "name".padding(toLength: nameWidth, withPad: " ", startingAt: 0) + "  dtype  shape\n"
        var total = 0, params = 0
        for e in entries {
            out += e.name.padding(toLength: max(nameWidth, e.name.count), withPad: " ", startingAt: 0)
                + "  " + e.dtype.safetensorsName.padding(toLength: 5, withPad: " ", startingAt: 0)
                + "  " + describeShape(e.shape) + "\n"
            total += e.dataRange.count
            params += e.shape.reduce(1, *)
        }
        out += "\(entries.count) tensors, \(params) elements, \(formatBytes(total))\n"
        return out
    }
}

func formatBytes(_ n: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB"]
    var v = Double(n), i = 0
    while v >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
    return i == 0 ? "\(n) B" : String(format: "%.1f %@", v, units[i])
}
