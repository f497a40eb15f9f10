import Foundation
import Testing
import NSITensor
import NSIVM
import NSITestSupport

/// Every op of the language, run by the VM on seeded random inputs, against a reference
/// written here in double precision and kept apart from the kernels: elementwise
/// functions, broadcasting in both directions, reductions with and without a dimension,
/// softmax, cosine, cat, stack, where, matmul, transpose, reshape, top-k and indexing.
/// Inputs arrive as run-time tensor params: `a`, `a2` [3, 4]; `p` [3, 4] positive; `row`
/// [4] and `col` [3, 1] nonzero; `m` [4, 2]. Tolerance: |got - want| <= 1e-5 * (1 + |want|).
@Suite(.enabled(if: Fixtures.modelDirectory != nil, "models/smollm2-135m not fetched"))
struct DifferentialOpTests {
    /// A value of the reference: shape and row-major doubles.
    struct Ref: Equatable {
        var shape: [Int]
        var data: [Double]
        var count: Int { data.count }
        static func scalar(_ x: Double) -> Ref { Ref(shape: [], data: [x]) }
    }

    static let tolerance = 1e-5

    // MARK: The reference

    static func map(_ x: Ref, _ f: (Double) -> Double) -> Ref { Ref(shape: x.shape, data: x.data.map(f)) }

    /// Broadcasting as NumPy and PyTorch do it: align on the right, size-1 stretches.
    static func zip(_ x: Ref, _ y: Ref, _ f: (Double, Double) -> Double) -> Ref {
        let rank = max(x.shape.count, y.shape.count)
        let xs = Array(repeating: 1, count: rank - x.shape.count) + x.shape
        let ys = Array(repeating: 1, count: rank - y.shape.count) + y.shape
        let shape = (0..<rank).map { max(xs[$0], ys[$0]) }
        func index(_ flat: Int, _ s: [Int]) -> Int {
            var rest = flat, at = 0, stride = 1
            var coords = Array(repeating: 0, count: rank)
            for d in (0..<rank).reversed() { coords[d] = rest % shape[d]; rest /= shape[d] }
            for d in (0..<rank).reversed() {
                at += (s[d] == 1 ? 0 : coords[d]) * stride
                stride *= s[d]
            }
            return at
        }
        let n = shape.reduce(1, *)
        return Ref(shape: shape, data: (0..<n).map { f(x.data[index($0, xs)], y.data[index($0, ys)]) })
    }

    /// Along dimension `dim` of a rank-2 value: `f` of each line.
    static func along(_ x: Ref, _ dim: Int, keep: Bool = false, _ f: ([Double]) -> Double) -> Ref {
        let (r, c) = (x.shape[0], x.shape[1])
        if dim == 0 {
            return Ref(shape: keep ? [1, c] : [c], data: (0..<c).map { j in f((0..<r).map { x.data[$0 * c + j] }) })
        }
        return Ref(shape: keep ? [r, 1] : [r], data: (0..<r).map { i in f(Array(x.data[i * c..<(i + 1) * c])) })
    }

    /// Each line along `dim` replaced by `f` of it.
    static func lines(_ x: Ref, _ dim: Int, _ f: ([Double]) -> [Double]) -> Ref {
        let (r, c) = (x.shape[0], x.shape[1])
        var out = x
        if dim == 0 {
            for j in 0..<c { for (i, v) in f((0..<r).map { x.data[$0 * c + j] }).enumerated() { out.data[i * c + j] = v } }
        } else {
            for i in 0..<r { for (j, v) in f(Array(x.data[i * c..<(i + 1) * c])).enumerated() { out.data[i * c + j] = v } }
        }
        return out
    }

    static func softmax(_ v: [Double]) -> [Double] {
        let m = v.max()!, e = v.map { exp($0 - m) }, s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    static func transpose(_ x: Ref) -> Ref {
        let (r, c) = (x.shape[0], x.shape[1])
        return Ref(shape: [c, r], data: (0..<(r * c)).map { k in x.data[(k % r) * c + k / r] })
    }

    static func index(of v: [Double], _ better: (Double, Double) -> Bool) -> Double {
        var best = 0
        for i in v.indices where better(v[i], v[best]) { best = i }
        return Double(best)
    }

    // MARK: The cases

    struct Case: Sendable, CustomTestStringConvertible {
        let expr: String
        let want: @Sendable ([String: Ref]) -> Ref
        var testDescription: String { expr }
        init(_ expr: String, _ want: @escaping @Sendable ([String: Ref]) -> Ref) { self.expr = expr; self.want = want }
    }

    static func b(_ x: Bool) -> Double { x ? 1 : 0 }

    static func cosineRows(_ x: Ref, _ y: Ref) -> Ref {
        let (r, c) = (x.shape[0], x.shape[1])
        var out: [Double] = []
        for i in 0..<r {
            var dot = 0.0, nx = 0.0, ny = 0.0
            for j in 0..<c {
                let u = x.data[i * c + j], w = y.data[i * c + j]
                dot += u * w
                nx += u * u
                ny += w * w
            }
            out.append(dot / (nx.squareRoot() * ny.squareRoot()))
        }
        return Ref(shape: [r], data: out)
    }

    /// The `k` largest of each row, descending, and their indices.
    static func topk(_ x: Ref, _ k: Int) -> (values: Ref, indices: Ref) {
        let (r, c) = (x.shape[0], x.shape[1])
        var values: [Double] = [], indices: [Double] = []
        for i in 0..<r {
            let row = Array(x.data[i * c..<(i + 1) * c])
            let order = row.indices.sorted { row[$0] > row[$1] }
            for j in order.prefix(k) {
                values.append(row[j])
                indices.append(Double(j))
            }
        }
        return (Ref(shape: [r, k], data: values), Ref(shape: [r, k], data: indices))
    }

    static func catColumns(_ x: Ref, _ y: Ref) -> Ref {
        let (r, c) = (x.shape[0], x.shape[1])
        var out: [Double] = []
        for i in 0..<r {
            out += x.data[i * c..<(i + 1) * c]
            out += y.data[i * c..<(i + 1) * c]
        }
        return Ref(shape: [r, 2 * c], data: out)
    }

    static func interleave(_ x: Ref, _ y: Ref) -> Ref {
        var out: [Double] = []
        for (u, w) in Swift.zip(x.data, y.data) { out += [u, w] }
        return Ref(shape: x.shape + [2], data: out)
    }

    static func matmul(_ x: Ref, _ y: Ref) -> Ref {
        let (r, k, c) = (x.shape[0], x.shape[1], y.shape[1])
        var out = Ref(shape: [r, c], data: Array(repeating: 0, count: r * c))
        for i in 0..<r {
            for j in 0..<c {
                var s = 0.0
                for t in 0..<k { s += x.data[i * k + t] * y.data[t * c + j] }
                out.data[i * c + j] = s
            }
        }
        return out
    }
    static let cases: [Case] = [
        // Elementwise functions.
        Case("-a") { map($0["a"]!) { -$0 } },
        Case("a.abs()") { map($0["a"]!) { Swift.abs($0) } },
        Case("a.exp()") { map($0["a"]!) { Foundation.exp($0) } },
        Case("p.log()") { map($0["p"]!) { Foundation.log($0) } },
        Case("p.sqrt()") { map($0["p"]!) { $0.squareRoot() } },
        Case("a.relu()") { map($0["a"]!) { Swift.max($0, 0) } },
        Case("a.sigmoid()") { map($0["a"]!) { 1 / (1 + Foundation.exp(-$0)) } },
        Case("a.tanh()") { map($0["a"]!) { Foundation.tanh($0) } },
        // Arithmetic, broadcasting a row [4] and a column [3, 1].
        Case("a + row") { zip($0["a"]!, $0["row"]!, +) },
        Case("col - a") { zip($0["col"]!, $0["a"]!, -) },
        Case("a * col") { zip($0["a"]!, $0["col"]!, *) },
        Case("a / row") { zip($0["a"]!, $0["row"]!, /) },
        Case("a % row") { zip($0["a"]!, $0["row"]!) { x, y in x - (x / y).rounded(.down) * y } },   // the sign of the divisor, as PyTorch
        Case("p ** row") { zip($0["p"]!, $0["row"]!) { Foundation.pow($0, $1) } },
        Case("a * 2.5 - 1") { map($0["a"]!) { $0 * 2.5 - 1 } },
        // Comparisons and logic, as 0/1.
        Case("(a > row).float()") { zip($0["a"]!, $0["row"]!) { b($0 > $1) } },
        Case("(a >= 0).float()") { map($0["a"]!) { b($0 >= 0) } },
        Case("(a < col).float()") { zip($0["a"]!, $0["col"]!) { b($0 < $1) } },
        Case("(a <= a2).float()") { zip($0["a"]!, $0["a2"]!) { b($0 <= $1) } },
        Case("(a == a).float()") { map($0["a"]!) { _ in 1 } },
        Case("(a != a2).float()") { zip($0["a"]!, $0["a2"]!) { b($0 != $1) } },
        Case("((a > 0) and (a2 > 0)).float()") { zip($0["a"]!, $0["a2"]!) { b($0 > 0 && $1 > 0) } },
        Case("((a > 0) or not (a2 > 0)).float()") { zip($0["a"]!, $0["a2"]!) { b($0 > 0 || !($1 > 0)) } },
        // Reductions.
        Case("a.sum()") { .scalar($0["a"]!.data.reduce(0, +)) },
        Case("a.sum(0)") { along($0["a"]!, 0) { $0.reduce(0, +) } },
        Case("a.sum(1, keepdim = true)") { along($0["a"]!, 1, keep: true) { $0.reduce(0, +) } },
        Case("a.mean(dim = 1)") { along($0["a"]!, 1) { $0.reduce(0, +) / Double($0.count) } },
        Case("a.max(0)") { along($0["a"]!, 0) { $0.max()! } },
        Case("a.min(1)") { along($0["a"]!, 1) { $0.min()! } },
        Case("a.norm(1)") { along($0["a"]!, 1) { $0.map { $0 * $0 }.reduce(0, +).squareRoot() } },
        Case("a.argmax(1).float()") { along($0["a"]!, 1) { index(of: $0, >) } },
        Case("a.argmin(0).float()") { along($0["a"]!, 0) { index(of: $0, <) } },
        // Softmax, cosine.
        Case("a.softmax(1)") { lines($0["a"]!, 1, softmax) },
        Case("a.softmax(0)") { lines($0["a"]!, 0, softmax) },
        Case("a.log_softmax(1)") { lines($0["a"]!, 1) { softmax($0).map { Foundation.log($0) } } },
        Case("cosine(a, a2)") { cosineRows($0["a"]!, $0["a2"]!) },
        // Shapes and gathering.
        Case("cat([a, a2], 0)") { Ref(shape: [6, 4], data: $0["a"]!.data + $0["a2"]!.data) },
        Case("cat([a, a2], 1)") { catColumns($0["a"]!, $0["a2"]!) },
        Case("stack([a, a2], 0)") { Ref(shape: [2, 3, 4], data: $0["a"]!.data + $0["a2"]!.data) },
        Case("stack([a, a2], 2)") { interleave($0["a"]!, $0["a2"]!) },
        Case("where(a > 0, a, a2)") { zip($0["a"]!, $0["a2"]!) { $0 > 0 ? $0 : $1 } },
        Case("a @ m") { matmul($0["a"]!, $0["m"]!) },
        // einsum: a product, sums, an outer product and a transpose.
        Case("einsum(\"ij,jk->ik\", a, m)") { matmul($0["a"]!, $0["m"]!) },
        Case("einsum(\"ij,ij->i\", a, a2)") { v in along(zip(v["a"]!, v["a2"]!, *), 1) { $0.reduce(0, +) } },
        Case("einsum(\"ij->ji\", a)") { transpose($0["a"]!) },
        Case("einsum(\"i,j->ij\", row, row)") { v in let r = v["row"]!.data; return Ref(shape: [4, 4], data: r.flatMap { x in r.map { x * $0 } }) },
        Case("einsum(\"ij,jk\", a, m)") { matmul($0["a"]!, $0["m"]!) },
        Case("a.transpose(0, 1)") { transpose($0["a"]!) },
        Case("a.reshape(2, 6)") { Ref(shape: [2, 6], data: $0["a"]!.data) },
        Case("a.unsqueeze(0).squeeze(0)") { $0["a"]! },
        Case("a[1]") { Ref(shape: [4], data: Array($0["a"]!.data[4..<8])) },
        Case("a[:, 1:3]") { v in
            let x = v["a"]!.data
            return Ref(shape: [3, 2], data: [x[1], x[2], x[5], x[6], x[9], x[10]])
        },
        Case("a[-1, ::2]") { v in Ref(shape: [2], data: [v["a"]!.data[8], v["a"]!.data[10]]) },
        // Integer-tensor indices together, as NumPy: broadcast, in place when adjacent, first when apart.
        Case("a[[2, 0], [1, -1]]") { v in Ref(shape: [2], data: [v["a"]!.data[9], v["a"]!.data[3]]) },
        Case("a[[[0], [2]], [1, 3]]") { v in let x = v["a"]!.data; return Ref(shape: [2, 2], data: [x[1], x[3], x[9], x[11]]) },
        Case("a.reshape(3, 2, 2)[0, :, [1, 0]]") { v in let x = v["a"]!.data; return Ref(shape: [2, 2], data: [x[1], x[3], x[0], x[2]]) },
        Case("a.gather(1, [[3, 0], [1, 1], [2, 0]])") { v in let x = v["a"]!.data; return Ref(shape: [3, 2], data: [x[3], x[0], x[5], x[5], x[10], x[8]]) },
        Case("gather(a, 0, [[2, 1, 0, 0]])") { v in let x = v["a"]!.data; return Ref(shape: [1, 4], data: [x[8], x[5], x[2], x[3]]) },
        // Boolean masks: the elements where the mask is true, in row-major order.
        Case("a[a > 0]") { v in let x = v["a"]!.data.filter { $0 > 0 }; return Ref(shape: [x.count], data: x) },
        Case("a[:, row > 0]") { v in
            let x = v["a"]!.data, keep = v["row"]!.data.indices.filter { v["row"]!.data[$0] > 0 }
            return Ref(shape: [3, keep.count], data: (0..<3).flatMap { i in keep.map { x[i * 4 + $0] } })
        },
        Case("a[col[:, 0] < 0]") { v in
            let x = v["a"]!.data, rows = (0..<3).filter { v["col"]!.data[$0] < 0 }
            return Ref(shape: [rows.count, 4], data: rows.flatMap { Array(x[($0 * 4)..<($0 * 4 + 4)]) })
        },
        Case("a.reshape(3, 2, 2)[:, 1, [1, 0]]") { v in let x = v["a"]!.data; return Ref(shape: [3, 2], data: [x[3], x[2], x[7], x[6], x[11], x[10]]) },
        Case("a.topk(2).values") { topk($0["a"]!, 2).values },
        Case("a.topk(2).indices.float()") { topk($0["a"]!, 2).indices },
        Case("zeros_like(a) + ones(4)") { _ in Ref(shape: [3, 4], data: Array(repeating: 1, count: 12)) },
    ]

    static let shapes: [String: [Int]] = ["a": [3, 4], "a2": [3, 4], "p": [3, 4], "row": [4], "col": [3, 1], "m": [4, 2]]

    /// Seeded inputs: normal-ish values; `p` positive; `row` and `col` kept away from 0.
    static func inputs(seed: UInt64) -> [String: Ref] {
        var state = seed
        func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53) * 4 - 2
        }
        var out: [String: Ref] = [:]
        for (name, shape) in shapes.sorted(by: { $0.key < $1.key }) {
            var data = (0..<shape.reduce(1, *)).map { _ in Double(Float(next())) }
            if name == "p" { data = data.map { Double(Float(Swift.abs($0) + 0.25)) } }
            if name == "row" || name == "col" { data = data.map { Double(Float($0 < 0 ? $0 - 0.5 : $0 + 0.5)) } }
            out[name] = Ref(shape: shape, data: data)
        }
        return out
    }

    @Test(arguments: cases)
    func opMatchesTheReference(_ c: Case) throws {
        let params = Self.shapes.keys.sorted().map { "param \($0): f32[\(Self.shapes[$0]!.map(String.init).joined(separator: ", "))]" }
        let script = params.joined(separator: "\n") + "\ntrace \"x\" { save r = \(c.expr) }\n"
        let program = try compile(script)
        let vm = VM(model: try Fixtures.model())
        var worst = 0.0
        for seed: UInt64 in [1, 2, 3] {
            let inputs = Self.inputs(seed: seed)
            let bound = inputs.mapValues { RunValue.tensor(Tensor(shape: $0.shape, floats: $0.data.map(Float.init))) }
            let got = try #require(try vm.run(program, params: bound).value("r")?.tensor, "\(c.expr): nothing saved")
            let want = c.want(inputs)
            #expect(got.shape == want.shape, "\(c.expr): shape \(got.shape), expected \(want.shape)")
            guard got.shape == want.shape else { return }
            worst = max(worst, maxDifference(got.toFloats().map(Double.init), want.data, .onePlusReference))
        }
        #expect(worst <= Self.tolerance, "\(c.expr): largest relative difference \(worst)")
    }

    /// Writes into a point with each assignment (`=`, `+=`, `-=`, `*=`, `/=`), checked
    /// against the point read just before the write and the reference arithmetic; a
    /// runtime `if` taking each branch; a gather by a list of indices; a module called on
    /// a value (`model.norm`, against RMSNorm computed here with the model's own weight).
    @Test func writesGuardsGathersAndModuleCalls() throws {
        let model = try Fixtures.model()
        let vm = VM(model: model)
        let inputs = Self.inputs(seed: 11)
        let row = try #require(inputs["row"]), a = try #require(inputs["a"])
        let params: [String: RunValue] = ["row": .tensor(Tensor(shape: [4], floats: row.data.map(Float.init))),
                                          "a": .tensor(Tensor(shape: [3, 4], floats: a.data.map(Float.init)))]
        let header = "param row: f32[4]\nparam a: f32[3, 4]\n"
        let ops: [(String, (Double, Double) -> Double)] = [("=", { _, y in y }), ("+=", +), ("-=", -), ("*=", *), ("/=", /)]
        var worst = 0.0
        for (l, (op, f)) in ops.enumerated() {
            let script = header + """
            trace "The capital of France" {
                save before = model.layers[\(l)].output[0, 1, 0:4]
                model.layers[\(l)].output[:, 1, 0:4] \(op) row
                save after = model.layers[\(l)].output[0, 1, 0:4]
            }
            """
            let r = try vm.run(try compile(script), params: params)
            let before = try #require(r.value("before")?.tensor).toFloats(), after = try #require(r.value("after")?.tensor).toFloats()
            for i in 0..<4 {
                let want = f(Double(before[i]), row.data[i])
                worst = max(worst, difference(Double(after[i]), want, .onePlusReference))
            }
            #expect(before != after, "`\(op)` changed nothing")
        }
        #expect(worst <= Self.tolerance, "writes: largest relative difference \(worst)")

        // A runtime `if`: the branch follows the value, both ways.
        let guarded = try compile(header + """
        trace "x" {
            if a.sum() > 0 { save positive = a.sum() } else { save negative = a.sum() }
        }
        """)
        for sign in [1.0, -1.0] {
            let shifted = a.data.map { Float($0 + sign * 10) }
            let r = try vm.run(guarded, params: ["a": .tensor(Tensor(shape: [3, 4], floats: shifted)), "row": params["row"]!])
            let sum = shifted.map(Double.init).reduce(0, +)
            let key = sum > 0 ? "positive" : "negative"
            #expect(r.values.map(\.key) == [key])
            #expect(abs(Double(try #require(r.value(key)?.tensor).item()) - sum) <= Self.tolerance * (1 + abs(sum)))
        }

        // Rows gathered by a list of indices.
        let gathered = try vm.run(try compile(header + "trace \"x\" { save g = a[[2, 0, 2]] }"), params: params)
        let g = try #require(gathered.value("g")?.tensor)
        #expect(g.shape == [3, 4])
        #expect(g.toFloats().map(Double.init) == Array(a.data[8..<12]) + Array(a.data[0..<4]) + Array(a.data[8..<12]))

        // A module on a value: the final norm of layer 3's last position.
        let called = try vm.run(try compile("""
        trace "The capital of France" {
            let h = model.layers[3].output[0, -1]
            save h = h
            save n = model.norm(h)
        }
        """))
        let h = try #require(called.value("h")?.tensor).toFloats().map(Double.init)
        let n = try #require(called.value("n")?.tensor).toFloats().map(Double.init)
        let weight = model.transformer.weights.norm.toFloats().map(Double.init)
        let eps = model.transformer.config.normEps
        let scale = 1 / (h.map { $0 * $0 }.reduce(0, +) / Double(h.count) + eps).squareRoot()
        let normWorst = maxDifference(n, h.indices.map { h[$0] * scale * weight[$0] }, .onePlusReference)
        #expect(normWorst <= Self.tolerance, "model.norm: largest relative difference \(normWorst)")
    }

    /// Edits of a `let` by each assignment, on slices, a row, a stepped slice and one
    /// element, with broadcasting, against the reference arithmetic on a copy; the value
    /// read before the edits (`before`) keeps its old elements (copy on write).
    @Test func letEditsMatchTheReference() throws {
        let vm = VM(model: try Fixtures.model())
        let inputs = Self.inputs(seed: 5)
        let a = try #require(inputs["a"]), row = try #require(inputs["row"]), col = try #require(inputs["col"])
        let bound = ["a": a, "row": row, "col": col].mapValues { RunValue.tensor(Tensor(shape: $0.shape, floats: $0.data.map(Float.init))) }
        let script = """
        param a: f32[3, 4]
        param row: f32[4]
        param col: f32[3, 1]
        trace "x" {
            let e = a
            let before = e
            e[1, 1:3] = row[0:2]
            e[:, 0] += col[:, 0]
            e[-1] *= row
            e[0, ::2] /= 2.0
            e[0, 3] -= 1
            save r = e
            save before = before
        }
        """
        let r = try vm.run(try compile(script), params: bound)
        var want = a.data
        want[5] = row.data[0]; want[6] = row.data[1]
        for i in 0..<3 { want[i * 4] += col.data[i] }
        for j in 0..<4 { want[8 + j] *= row.data[j] }
        want[0] /= 2; want[2] /= 2
        want[3] -= 1
        let got = try #require(r.value("r")?.tensor), before = try #require(r.value("before")?.tensor)
        #expect(got.shape == [3, 4])
        let worst = Swift.zip(got.toFloats(), want).map { Swift.abs(Double($0) - $1) / (1 + Swift.abs($1)) }.max() ?? 1
        #expect(worst <= Self.tolerance, "edits: largest relative difference \(worst)")
        #expect(before.toFloats().map(Double.init) == a.data, "the value read before the edits changed")
    }
}
