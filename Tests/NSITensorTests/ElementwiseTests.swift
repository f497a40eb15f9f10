import Foundation
import Testing
@testable import NSITensor
import NSITestSupport

@Suite struct ElementwiseTests {
    @Test func binaryOpsBroadcast() {
        let a = Tensor(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])
        let row = Tensor(shape: [3], floats: [10, 20, 30])
        let col = Tensor(shape: [2, 1], floats: [100, 200])
        #expect((a + row).toFloats() == [11, 22, 33, 14, 25, 36])
        #expect((a * col).toFloats() == [100, 200, 300, 800, 1000, 1200])
        #expect((col - row).shape == [2, 3])
        #expect((col - row).toFloats() == [90, 80, 70, 190, 180, 170])
        #expect((a / 2).toFloats() == [0.5, 1, 1.5, 2, 2.5, 3])
        #expect(a.binary(.pow, 2).toFloats() == [1, 4, 9, 16, 25, 36])
        #expect(a.binary(.maximum, Tensor(scalar: 3.5)).toFloats() == [3.5, 3.5, 3.5, 4, 5, 6])
        #expect(a.binary(.gt, 3).toFloats() == [0, 0, 0, 1, 1, 1])
        #expect(a.binary(.gt, 3).dtype == .bool)
        // A transposed (strided) operand.
        let t = Tensor(shape: [3, 2], floats: [1, 4, 2, 5, 3, 6]).mT
        #expect((a - t).toFloats() == [0, 0, 0, 0, 0, 0])
    }

    @Test func unaryOpsMatchTheirFormulas() {
        let xs: [Float] = [-3, -1.5, -0.25, 0, 0.3, 1, 2.5]
        let x = Tensor(shape: [xs.count], floats: xs)
        func check(_ op: UnaryOp, _ f: (Double) -> Double) {
            let got = x.unary(op).toFloats()
            let want = xs.map { Float(f(Double($0))) }
            let d = maxAbsDiff(got, want)
            #expect(d < 1e-6, "\(op): max difference \(d)")
        }
        check(.neg) { -$0 }
        check(.abs) { Swift.abs($0) }
        check(.exp) { Foundation.exp($0) }
        check(.relu) { Swift.max($0, 0) }
        check(.sigmoid) { 1 / (1 + Foundation.exp(-$0)) }
        check(.tanh) { Foundation.tanh($0) }
        check(.silu) { $0 / (1 + Foundation.exp(-$0)) }
        check(.gelu) { 0.5 * $0 * (1 + erf($0 / 2.0.squareRoot())) }
        check(.geluTanh) { 0.5 * $0 * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * ($0 + 0.044715 * $0 * $0 * $0))) }
        let pos = Tensor(shape: [3], floats: [0.5, 1, 4])
        #expect(maxAbsDiff(pos.unary(.log).toFloats(), [Float(Foundation.log(0.5)), 0, Float(Foundation.log(4.0))]) < 1e-6)
        #expect(pos.unary(.sqrt).toFloats()[2] == 2)
    }

    @Test func inPlaceOpsWriteThroughViews() {
        let a = Tensor(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])
        a.select(dim: 1, index: 1).binaryInPlace(.add, Tensor(scalar: 10))
        #expect(a.toFloats() == [1, 12, 3, 4, 15, 6])
        a.slice(dim: 0, start: 1).fill(0)
        #expect(a.toFloats() == [1, 12, 3, 0, 0, 0])
        a.select(dim: 0, index: 1).assign(Tensor(shape: [3], floats: [7, 8, 9]))
        #expect(a.toFloats() == [1, 12, 3, 7, 8, 9])
        let c = a.contiguous()
        c.unaryInPlace(.neg)
        #expect(a.toFloats() == [-1, -12, -3, -7, -8, -9])
    }

    @Test func whereSelects() {
        let cond = Tensor(shape: [3], floats: [1, 0, 1])
        let r = Tensor.select(cond, Tensor(shape: [3], floats: [1, 2, 3]), Tensor(scalar: -1))
        #expect(r.toFloats() == [1, -1, 3])
    }

    @Test func halfPrecisionDecodesKnownBitPatterns() {
        #expect(decodeF16(0x3C00) == 1)
        #expect(decodeF16(0xC000) == -2)
        #expect(decodeF16(0x7BFF) == 65504)
        #expect(decodeF16(0x0001) == Float(sign: .plus, exponent: -24, significand: 1))
        #expect(decodeF16(0x7C00) == .infinity)
        #expect(decodeF16(0x7E00).isNaN)
        #expect(decodeF16(0x8000).sign == .minus)
        #expect(decodeBF16(0x3F80) == 1)
        #expect(decodeBF16(0xC049) == -3.140625)
        for v: Float in [0, 1, -2.5, 0.1, 65504, 1e-6] {
            #expect(decodeF16(encodeF16(v)) == Float(Float16(v)))
        }
        #expect(decodeBF16(encodeBF16(3.14159)) == 3.140625)
    }

    @Test func castsBetweenIntegerAndFloat() {
        let i = Tensor(shape: [3], int32s: [1, -2, 3])
        #expect(i.cast(to: .f32).toFloats() == [1, -2, 3])
        #expect(Tensor(shape: [2], floats: [2.7, -1.2]).cast(to: .i64).toInt64s() == [2, -1])
        #expect(i.cast(to: .i64).toInt64s() == [1, -2, 3])
    }
}
