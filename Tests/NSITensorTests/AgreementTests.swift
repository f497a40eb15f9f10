import Testing
import NSITensor
import NSITestSupport

/// The comparison every numerical test uses (Tests/Support/Agreement.swift) sees what
/// Swift's `max` and `zip` hide: a NaN anywhere, an infinity, a length or shape mismatch.
@Suite struct AgreementTests {
    @Test func aNonFiniteValueAnywhereIsInfinitelyFar() {
        // What the helper exists for: `max` keeps the first argument when the second is NaN.
        #expect(Swift.max(Float(0), .nan) == 0)
        let reference: [Float] = [1, 2, 3, 4]
        for i in reference.indices {
            for bad in [Float.nan, .infinity, -.infinity] {
                var values = reference
                values[i] = bad
                #expect(maxAbsDiff(values, reference) == .infinity, "\(bad) at \(i)")
                #expect(maxRelDiff(values, reference) == .infinity, "\(bad) at \(i)")
                #expect(maxDifference(values.map(Double.init), reference.map(Double.init), .onePlusReference) == .infinity)
            }
        }
        #expect(maxAbsDiff(reference, reference) == 0)
        #expect(maxAbsDiff([1, 2.5, 3], [1, 2, 3]) == 0.5)
        // A worst-so-far kept with `max` keeps the infinity.
        var worst: Float = 0
        for d in [maxAbsDiff([0.1], [0]), maxAbsDiff([.nan], [0]), maxAbsDiff([0.2], [0])] { worst = Swift.max(worst, d) }
        #expect(worst == .infinity)
    }

    @Test func nonFiniteReferencesAreMetOnlyByTheSameValue() {
        #expect(maxAbsDiff([.nan, .infinity, -.infinity], [.nan, .infinity, -.infinity]) == 0)
        #expect(maxAbsDiff([1], [.nan]) == .infinity)
        #expect(maxAbsDiff([.infinity], [-.infinity]) == .infinity)
        #expect(difference(Float.nan, 0).isNaN == false)
    }

    @Test func scalesAreAbsoluteNearZeroAndRelativeForLargeReferences() {
        #expect(maxRelDiff([0.5], [0]) == 0.5)
        #expect(maxRelDiff([110], [100]) == 0.1)
        #expect(maxDifference([Float(3)], [1], .onePlusReference) == 1)
    }

    @Test func lengthAndShapeMismatchesFail() {
        withKnownIssue("a length mismatch is recorded") {
            #expect(maxAbsDiff([1, 2], [1, 2, 3]) == .infinity)
        }
        withKnownIssue("a shape mismatch is recorded") {
            #expect(maxDifference(Tensor(shape: [2, 3], floats: [Float](repeating: 0, count: 6)),
                                  Tensor(shape: [3, 2], floats: [Float](repeating: 0, count: 6))) == .infinity)
        }
    }
}
