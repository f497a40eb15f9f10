import Foundation
import Testing
@testable import NSITensor
import NSITestSupport

@Suite struct ReduceTests {
    let x = Tensor(shape: [2, 3], floats: [1, 5, 3, -4, 0, 2])

    @Test func reductionsAlongADimension() {
        #expect(x.sum(dim: 0).toFloats() == [-3, 5, 5])
        #expect(x.sum(dim: 1).toFloats() == [9, -2])
        #expect(x.sum(dim: -1, keepdim: true).shape == [2, 1])
        #expect(x.mean(dim: 1).toFloats() == [3, Float(-2.0 / 3.0)])
        #expect(x.reduce(.max, dim: 1).toFloats() == [5, 2])
        #expect(x.reduce(.min, dim: 0).toFloats() == [-4, 0, 2])
        #expect(x.argmax(dim: 1).toInt64s() == [1, 2])
        #expect(x.reduce(.argmin, dim: 1).toInt64s() == [0, 0])
        #expect(x.reduce(.norm, dim: 1).toFloats()[0] == Float((35.0).squareRoot()))
        #expect(x.sum().item() == 7)
        #expect(x.argmax().toInt64s() == [1])
        // A transposed view reduces by logical layout.
        #expect(x.mT.sum(dim: 1).toFloats() == [-3, 5, 5])
        // Ties go to the first index, as in PyTorch.
        #expect(Tensor(shape: [4], floats: [2, 7, 7, 1]).argmax(dim: 0).toInt64s() == [1])
    }

    @Test func softmaxAndLogSoftmax() {
        let v: [Double] = [1, 2, 3, -1]
        let e = v.map { exp($0) }, total = e.reduce(0, +)
        let t = Tensor(shape: [1, 4], floats: v.map(Float.init))
        let s = t.softmax(dim: -1).toFloats()
        #expect(maxAbsDiff(s, e.map { Float($0 / total) }) < 1e-7)
        let ls = t.logSoftmax(dim: 1).toFloats()
        #expect(maxAbsDiff(ls, v.map { Float($0 - log(total)) }) < 1e-6)
        // Along dim 0 of a [2, 2]: columns normalize.
        let c = Tensor(shape: [2, 2], floats: [0, 1, 0, 3]).softmax(dim: 0).toFloats()
        #expect(c[0] == 0.5 && c[2] == 0.5)
        #expect(abs(c[1] + c[3] - 1) < 1e-6)
        // Large values stay finite.
        #expect(Tensor(shape: [2], floats: [1000, 1000]).softmax(dim: 0).toFloats() == [0.5, 0.5])
    }

    @Test func topkIsDescendingWithStableTies() {
        let t = Tensor(shape: [2, 5], floats: [3, 9, 1, 9, 4, -1, -2, -3, 0, 5])
        let (values, indices) = t.topk(3)
        #expect(values.shape == [2, 3])
        #expect(values.toFloats() == [9, 9, 4, 5, 0, -1])
        #expect(indices.toInt64s() == [1, 3, 4, 4, 3, 0])
        let (v0, i0) = t.topk(1, dim: 0)
        #expect(v0.toFloats() == [3, 9, 1, 9, 5])
        #expect(i0.toInt64s() == [0, 0, 0, 0, 1])
    }
}
