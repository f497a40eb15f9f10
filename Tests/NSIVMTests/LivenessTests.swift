import Foundation
import Testing
import NSIIR
import NSITensor
import NSIVM
import NSITestSupport

/// Registers are let go after their last use: eight full residual reads, each reduced
/// at once, never sit in the registers together; with copy elision they are views and
/// hold nothing, and only the saved slice is copied.
@Suite(.enabled(if: Fixtures.modelDirectory != nil, "models/smollm2-135m not fetched"))
struct LivenessTests {
    @Test func registersAreReleasedAfterTheirLastUse() throws {
        let program = try compile(#"""
        trace "The Eiffel Tower is located in the city of" {
            for l in 0..<8 { save m[l] = model.layers[l].output.sum() }
            save h = model.layers[8].output[0, -1]
        }
        """#)
        let copied = try VM(model: try Fixtures.model(), elideCopies: false).run(program)
        let r = try VM(model: try Fixtures.model()).run(program)
        let oneRead = 10 * 576 * 4
        print("liveness: peak register bytes \(copied.peakRegisterBytes) with every read copied, \(r.peakRegisterBytes) with views; one read \(oneRead)")
        #expect(copied.peakRegisterBytes >= oneRead)
        #expect(copied.peakRegisterBytes < 2 * oneRead)
        // Views: the 576-float slice and a few scalars.
        #expect(r.peakRegisterBytes >= 576 * 4)
        #expect(r.peakRegisterBytes < oneRead / 4)
        // The results are what they would be with every register kept.
        #expect(r.values.count == 9)
        let h = try #require(r.value("h")?.tensor)
        #expect(h.shape == [576])
    }
}
