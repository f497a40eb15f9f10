import Foundation

/// What `randn`, `rand` and `randint` draw.
public enum RandomDistribution: Hashable, Sendable {
    /// Standard normal (mean 0, standard deviation 1), f32.
    case normal
    /// Uniform on [0, 1), f32.
    case uniform
    /// Integers uniform on `low ..< high`, i64.
    case integers(low: Int, high: Int)

    public var dtype: DType {
        if case .integers = self { return .i64 }
        return .f32
    }
}

/// The project's random numbers: the same on every machine, every run, any thread count.
///
/// The generator is counter based. Word `n` (from 0) of seed `s` is the SplitMix64 output
/// `mix(s + (n + 1) · 0x9E3779B97F4A7C15)` (wrapping arithmetic), where `mix(z)` is
/// `z ^= z >> 30; z *= 0xBF58476D1CE4E5B9; z ^= z >> 27; z *= 0x94D049BB133111EB; z ^ (z >> 31)`.
/// Element `i` of a tensor (row-major) takes:
/// - uniform: `(word(i) >> 40) · 2⁻²⁴`, exact in f32;
/// - normal: `u1 = (word(2i) >> 11) · 2⁻⁵³`, `u2 = (word(2i+1) >> 11) · 2⁻⁵³`,
///   `sqrt(-2 ln(1 - u1)) · cos(2π u2)` in double, rounded to f32 (Box–Muller);
/// - integers: `low + word(i) mod (high - low)`.
/// docs/language.md ("Randomness") gives the same recipe, for reproducing it elsewhere.
public enum SplitMix {
    static let gamma: UInt64 = 0x9E37_79B9_7F4A_7C15

    @inline(__always)
    public static func word(seed: UInt64, _ n: UInt64) -> UInt64 {
        var z = seed &+ (n &+ 1) &* gamma
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A tensor of `shape` drawn from `distribution` with `seed`.
    public static func tensor(_ shape: [Int], _ distribution: RandomDistribution, seed: UInt64) -> Tensor {
        let count = shape.reduce(1, *)
        switch distribution {
        case .uniform:
            var out = [Float](repeating: 0, count: count)
            for i in 0..<count { out[i] = Float(word(seed: seed, UInt64(i)) >> 40) * 0x1p-24 }
            return Tensor(shape: shape, floats: out)
        case .normal:
            var out = [Float](repeating: 0, count: count)
            for i in 0..<count {
                let n = UInt64(i) &* 2
                let u1 = Double(word(seed: seed, n) >> 11) * 0x1p-53
                let u2 = Double(word(seed: seed, n &+ 1) >> 11) * 0x1p-53
                out[i] = Float((-2 * Foundation.log(1 - u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2))
            }
            return Tensor(shape: shape, floats: out)
        case .integers(let low, let high):
            // In 64-bit two's complement, so that any range with high > low (even wider than
            // Int64.max) neither overflows nor traps.
            precondition(high > low, "randint needs high > low (checked by the checker, the verifier and the VM)")
            let base = UInt64(bitPattern: Int64(low)), range = UInt64(bitPattern: Int64(high)) &- base
            var out = [Int64](repeating: 0, count: count)
            for i in 0..<count { out[i] = Int64(bitPattern: base &+ word(seed: seed, UInt64(i)) % range) }
            return Tensor(shape: shape, int64s: out)
        }
    }
}
