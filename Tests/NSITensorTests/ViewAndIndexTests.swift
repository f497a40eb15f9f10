import Testing
@testable import NSITensor
import NSITestSupport

@Suite struct ViewAndIndexTests {
    let x = Tensor(shape: [2, 3, 4], floats: (0..<24).map(Float.init))

    @Test func slicesFollowPythonRules() {
        #expect(x.select(dim: 1, index: -1).toFloats() == [8, 9, 10, 11, 20, 21, 22, 23])
        #expect(x.slice(dim: 2, start: 1, end: 3).toFloats() == [1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22])
        #expect(x.slice(dim: 2, step: 3).shape == [2, 3, 2])
        #expect(x.slice(dim: 2, step: 3).toFloats() == [0, 3, 4, 7, 8, 11, 12, 15, 16, 19, 20, 23])
        #expect(x.slice(dim: 0, start: -1).shape == [1, 3, 4])
        #expect(x.slice(dim: 0, start: 5, end: 9).shape == [0, 3, 4])
        #expect(x.slice(dim: 1, start: 2, end: 1).shape == [2, 0, 4])
    }

    @Test func viewsShareStorage() {
        let v = x.copy()
        v.transpose(0, 2).select(dim: 0, index: 0).fill(-1)
        #expect(v.toFloats().enumerated().filter { $0.element == -1 }.map(\.offset) == [0, 4, 8, 12, 16, 20])
    }

    /// A transposed matrix made contiguous (copied by tiles), at sizes around the tile
    /// and into a strided destination, element by element.
    @Test func transposedCopiesMatchElementByElement() {
        var rng = SeededRandom(seed: 7)
        for (r, c) in [(16, 16), (37, 45), (64, 33), (100, 17)] {
            let m = rng.tensor([c, r])
            let t = m.mT.contiguous()
            let a = m.toFloats(), b = t.toFloats()
            #expect(t.shape == [r, c])
            #expect((0..<r).allSatisfy { i in (0..<c).allSatisfy { j in b[i * c + j] == a[j * r + i] } }, "\(r)x\(c)")
            // Into the left columns of a wider matrix: the destination's rows are longer.
            let wide = Tensor(zeros: [r, c + 3])
            wide.slice(dim: 1, end: c).assign(m.mT)
            let w = wide.toFloats()
            #expect((0..<r).allSatisfy { i in (0..<c).allSatisfy { j in w[i * (c + 3) + j] == a[j * r + i] } && w[i * (c + 3) + c] == 0 })
        }
    }

    @Test func reshapeIsAViewWhenLegal() {
        let r = x.reshape([6, 4])
        #expect(r.storage === x.storage)
        #expect(x.reshape([2, -1]).shape == [2, 12])
        // A sliced tensor whose merged dims stay contiguous can still be viewed.
        let s = x.slice(dim: 0, start: 1)
        #expect(s.reshape([12]).storage === x.storage)
        #expect(s.reshape([12]).toFloats() == (12..<24).map(Float.init))
        // A transpose cannot be flattened without a copy; the values still come out in logical order.
        let t = x.transpose(1, 2)
        let flat = t.reshape([24])
        #expect(flat.storage !== x.storage)
        #expect(Array(flat.toFloats().prefix(4)) == [0, 4, 8, 1])
        // Splitting a dim of a transposed view is legal without a copy.
        let split = t.reshape([2, 2, 2, 3])
        #expect(split.storage === x.storage)
        #expect(split.toFloats() == t.toFloats())
        #expect(Tensor.inferShape([-1, -1], count: 4) == nil)
        #expect(Tensor.inferShape([5, -1], count: 24) == nil)
    }

    @Test func squeezeUnsqueezePermute() {
        #expect(x.unsqueeze(0).shape == [1, 2, 3, 4])
        #expect(x.unsqueeze(-1).shape == [2, 3, 4, 1])
        #expect(x.unsqueeze(1).squeeze().shape == [2, 3, 4])
        #expect(x.unsqueeze(1).squeeze(1).toFloats() == x.toFloats())
        let p = x.permute([2, 0, 1])
        #expect(p.shape == [4, 2, 3])
        #expect(p.select(dim: 0, index: 1).toFloats() == [1, 5, 9, 13, 17, 21])
    }

    @Test func broadcastShapes() {
        #expect(Tensor.broadcastShape([2, 1, 4], [3, 1]) == [2, 3, 4])
        #expect(Tensor.broadcastShape([2, 3], [4, 3]) == nil)
        let b = Tensor(shape: [3, 1], floats: [1, 2, 3]).broadcast(to: [2, 3, 4])
        #expect(b.strides[0] == 0 && b.strides[2] == 0)
        #expect(b.toFloats().filter { $0 == 2 }.count == 8)
    }

    @Test func integerIndexing() throws {
        let idx = Tensor(shape: [2], int64s: [2, -1])
        let r = try #require(x.indexSelect(dim: 1, indices: idx))
        #expect(r.shape == [2, 2, 4])
        #expect(r.select(dim: 0, index: 0).toFloats() == [8, 9, 10, 11, 8, 9, 10, 11])
        #expect(x.indexSelect(dim: 1, indices: Tensor(shape: [1], int32s: [3])) == nil)
        let emb = Tensor(shape: [4, 2], floats: [0, 1, 10, 11, 20, 21, 30, 31])
        let ids = Tensor(shape: [2, 2], int32s: [3, 0, 1, 1])
        #expect(try #require(emb.indexSelect(dim: 0, indices: ids)).shape == [2, 2, 2])
        #expect(try #require(emb.indexSelect(dim: 0, indices: ids)).toFloats() == [30, 31, 0, 1, 10, 11, 10, 11])
    }

    @Test func gatherAndScatter() throws {
        let t = Tensor(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])
        let index = Tensor(shape: [2, 2], int64s: [2, 0, 1, 1])
        #expect(try #require(t.gather(dim: 1, index: index)).toFloats() == [3, 1, 5, 5])
        #expect(t.gather(dim: 1, index: Tensor(shape: [2, 1], int64s: [3, 0])) == nil)
        let s = try #require(t.scatter(dim: 1, index: Tensor(shape: [2, 1], int64s: [0, 2]),
                                       source: Tensor(shape: [2, 1], floats: [-1, -2])))
        #expect(s.toFloats() == [-1, 2, 3, 4, 5, -2])
        #expect(t.toFloats() == [1, 2, 3, 4, 5, 6])
    }

    @Test func catAndStack() {
        let a = Tensor(shape: [1, 2], floats: [1, 2]), b = Tensor(shape: [2, 2], floats: [3, 4, 5, 6])
        #expect(Tensor.cat([a, b], dim: 0).toFloats() == [1, 2, 3, 4, 5, 6])
        #expect(Tensor.cat([b, b], dim: 1).shape == [2, 4])
        #expect(Tensor.cat([b, b], dim: 1).toFloats() == [3, 4, 3, 4, 5, 6, 5, 6])
        let s = Tensor.stack([a.squeeze(), a.squeeze()], dim: 1)
        #expect(s.shape == [2, 2])
        #expect(s.toFloats() == [1, 1, 2, 2])
    }
}
