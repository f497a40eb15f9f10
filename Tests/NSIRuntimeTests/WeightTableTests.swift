import Foundation
import Testing
import NSITensor
import NSIModel
@testable import NSIRuntime
import NSITestSupport

/// The signature's weight table (what scripts may read as `model.<module>.weight`) names
/// exactly the tensors the runtime loads, with their shapes, in every family; a read gives
/// the checkpoint's values.
@Suite struct WeightTableTests {
    static let families = Fixtures.tinyModels

    @Test(arguments: families)
    func tableNamesTheCheckpointsTensors(family: String) throws {
        let t = try ModelCache.shared.tiny(family)
        let table = t.config.weightTable()
        let file = try SafetensorsArchive(directory: Fixtures.path("tiny/\(family)"))
        var read = Set<String>()
        for w in table {
            let x = try t.weights.weight(w)
            #expect(x.shape == w.shape && x.dtype == .f32, "\(family) \(w.name): \(x.shape)")
            let stored = Set([w.hfName, w.stored].flatMap { [$0, $0.replacingOccurrences(of: "transformer.", with: "")] })
            let name = try #require(stored.first { file.contains($0) }, "\(family): \(w.hfName) not in the checkpoint")
            #expect(x.toFloats() == (try file.tensor(name, keepingWidth: false)).cast(to: .f32).toFloats(), "\(family) \(w.name)")
            read.insert(name)
        }
        // Every tensor the runtime uses is in the table (what it does not use, it reports).
        let missing = file.names.filter { !read.contains($0) && !t.weights.unused.contains($0) }
        #expect(missing.isEmpty, "\(family): loaded but not readable: \(missing)")
        #expect(Set(table.map(\.name)).count == table.count, "\(family): a canonical name twice")
        print("\(family): \(table.count) weights readable, every one the checkpoint's tensor")
    }
}
