import Foundation
import Testing
import NSIIR
import NSITensor
import NSIVM

/// Registers are let go after their last use: eight full residual reads, each reduced
/// at once, never sit in the registers together.
@Suite(.enabled(if: Fixtures.modelDirectory != nil, "models/smollm2-135m not fetched"))
struct LivenessTests {
    @Test func registersAreReleasedAfterTheirLastUse() throws {
        let r = try run(#"""
        trace "The Eiffel Tower is located in the city of" {
            for l in 0..<8 { save m[l] = model.layers[l].output.sum() }
            save h = model.layers[8].output[0, -1]
        }
        """#)
        let oneRead = 10 * 576 * 4
        print("liveness: peak register bytes \(r.peakRegisterBytes), one read \(oneRead)")
        #expect(r.peakRegisterBytes >= oneRead)
        #expect(r.peakRegisterBytes < 2 * oneRead)
        // The results are what they would be with every register kept.
        #expect(r.values.count == 9)
        let h = try #require(r.value("h")?.tensor)
        #expect(h.shape == [576])
    }
}
