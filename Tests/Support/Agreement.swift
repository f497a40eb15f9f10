import Foundation
import NSITensor
import Testing

/// How far computed numbers are from their reference: the one comparison every numerical
/// test uses. Unlike Swift's `max`, which drops NaN (`max(0, .nan)` is 0), and `zip`, which
/// stops at the shorter list, it sees every way a result can be wrong:
/// - a value that is not finite where its reference is finite is infinitely far from it
///   (NaN, ±inf; a non-finite reference is met only by the same value: NaN by NaN, inf by inf);
/// - lists of different lengths, or tensors of different shapes, are infinitely far apart,
///   and the mismatch is recorded as a test issue at the caller.
/// It never returns NaN, so `max(worst, d)` over its answers keeps an infinity.
public enum DifferenceScale: Sendable {
    /// |x − r|
    case absolute
    /// |x − r| / max(|r|, 1): absolute near zero, relative for large references.
    case relative
    /// |x − r| / (1 + |r|)
    case onePlusReference
}

/// The difference of one value from its reference (see `DifferenceScale`); never NaN.
@inlinable
public func difference<F: BinaryFloatingPoint>(_ x: F, _ reference: F, _ scale: DifferenceScale = .absolute) -> F {
    guard reference.isFinite else {
        if reference.isNaN { return x.isNaN ? 0 : .infinity }
        return x == reference ? 0 : .infinity
    }
    guard x.isFinite else { return .infinity }
    let d = abs(x - reference)
    switch scale {
    case .absolute: return d
    case .relative: return d / max(abs(reference), 1)
    case .onePlusReference: return d / (1 + abs(reference))
    }
}

/// The largest difference of `values` from `reference`, element by element (see
/// `DifferenceScale`): infinite when any value is non-finite where its reference is finite,
/// or when the lengths differ (recorded as an issue). 0 for two empty lists.
public func maxDifference<F: BinaryFloatingPoint>(_ values: [F], _ reference: [F], _ scale: DifferenceScale = .absolute,
                                                  sourceLocation: SourceLocation = #_sourceLocation) -> F {
    guard values.count == reference.count else {
        Issue.record("compared \(values.count) values with \(reference.count) reference values", sourceLocation: sourceLocation)
        return .infinity
    }
    var worst: F = 0
    for i in values.indices {
        let d = difference(values[i], reference[i], scale)
        if d > worst { worst = d }
    }
    return worst
}

/// The largest difference of two tensors of the same shape (a shape mismatch is recorded
/// as an issue and counts as infinite).
public func maxDifference(_ values: Tensor, _ reference: Tensor, _ scale: DifferenceScale = .absolute,
                          sourceLocation: SourceLocation = #_sourceLocation) -> Float {
    guard values.shape == reference.shape else {
        Issue.record("compared a tensor of shape \(values.shape) with a reference of shape \(reference.shape)", sourceLocation: sourceLocation)
        return .infinity
    }
    return maxDifference(values.toFloats(), reference.toFloats(), scale, sourceLocation: sourceLocation)
}

/// |x − r| over every element: `maxDifference(values, reference, .absolute)`.
public func maxAbsDiff(_ values: [Float], _ reference: [Float], sourceLocation: SourceLocation = #_sourceLocation) -> Float {
    maxDifference(values, reference, .absolute, sourceLocation: sourceLocation)
}

/// |x − r| / max(|r|, 1) over every element: `maxDifference(values, reference, .relative)`.
public func maxRelDiff(_ values: [Float], _ reference: [Float], sourceLocation: SourceLocation = #_sourceLocation) -> Float {
    maxDifference(values, reference, .relative, sourceLocation: sourceLocation)
}
