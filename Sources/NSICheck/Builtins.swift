import NSIIR

/// The language's built-in methods (called on a tensor, `h.sum(dim=-1)`) and functions
/// (`cat([a, b], dim=0)`), one row each: the name, its parameters in order (for binding
/// arguments by position or label), how many are required, the op kinds it lowers to,
/// a line of help and an example. The checker binds arguments and suggests names from this
/// table; tools (the language server's completion and hover, docs/language.md) read it;
/// `BuiltinTableTests` checks every example against a model and that the checker handles
/// every row and nothing else.
public struct Builtin: Sendable {
    public enum Kind: Sendable { case method, function }

    public let name: String
    public let kind: Kind
    /// Parameter names in order; nil for a list of dimensions given as separate
    /// arguments or one list (`zeros(2, 3)`, `x.reshape([6, -1])`).
    public let parameters: [String]?
    public let required: Int
    /// The op kinds it may lower to (`tok` of a compile-time string is a constant, of a
    /// run-time one a `tokens` instruction).
    public let ops: [OpKind]
    public let summary: String
    /// A call that checks on SmolLM2 with `h` a `f32[1, T, 576]` tensor (and a file
    /// `steer.safetensors` beside the script).
    public let example: String

    /// The built-in called `name` as a method or a function, if any.
    public static func method(_ name: String) -> Builtin? { methods[name] }
    public static func function(_ name: String) -> Builtin? { functions[name] }

    static let methods: [String: Builtin] = Dictionary(uniqueKeysWithValues: table.filter { $0.kind == .method }.map { ($0.name, $0) })
    static let functions: [String: Builtin] = Dictionary(uniqueKeysWithValues: table.filter { $0.kind == .function }.map { ($0.name, $0) })
    public static var methodNames: [String] { table.filter { $0.kind == .method }.map(\.name) }
    public static var functionNames: [String] { table.filter { $0.kind == .function }.map(\.name) }

    private static func m(_ name: String, _ parameters: [String]?, required: Int = 0, _ ops: [OpKind], _ summary: String, _ example: String) -> Builtin {
        Builtin(name: name, kind: .method, parameters: parameters, required: required, ops: ops, summary: summary, example: example)
    }

    private static func f(_ name: String, _ parameters: [String]?, required: Int, _ ops: [OpKind], _ summary: String, _ example: String) -> Builtin {
        Builtin(name: name, kind: .function, parameters: parameters, required: required, ops: ops, summary: summary, example: example)
    }

    public static let table: [Builtin] = {
        var rows: [Builtin] = []
        for r in ["sum", "mean", "max", "min", "norm"] {
            rows.append(m(r, ["dim", "keepdim"], [.reduce], "\(r) over `dim` (every element when absent); `keepdim=true` keeps it as size 1", "h.\(r)(dim=-1)"))
        }
        for r in ["argmax", "argmin"] {
            rows.append(m(r, ["dim", "keepdim"], [.reduce], "the index (i64) of the \(r == "argmax" ? "largest" : "smallest") entry along `dim`", "h.\(r)(dim=-1)"))
        }
        rows.append(m("softmax", ["dim"], [.softmax], "softmax along `dim` (default -1)", "h.softmax(dim=-1)"))
        rows.append(m("log_softmax", ["dim"], [.softmax], "log-softmax along `dim` (default -1)", "h.log_softmax(-1)"))
        for u in ["abs", "exp", "log", "sqrt", "relu", "sigmoid", "tanh"] {
            rows.append(m(u, [], [.unary], "\(u) of each element", "h.\(u)()"))
        }
        rows += [
            m("clone", [], [.clone], "a copy", "h.clone()"),
            m("gather", ["dim", "index"], required: 2, [.gather], "`torch.gather`: along `dim`, the entries the integer tensor `index` (of the same rank) names", "h.gather(-1, [[[3, 1]]])"),
            m("detach", [], [.detach], "the same values with no gradient: the reverse pass treats them as a constant", "h.detach()"),
            m("float", [], [.cast], "the tensor as f32", "h.float()"),
            m("topk", ["k", "dim"], required: 1, [.topk], "the `k` largest entries along `dim` (default -1): `.values` and `.indices`", "h.topk(5).values"),
            m("reshape", nil, [.reshape], "the elements laid out in a new shape (one `-1` is inferred)", "h.reshape(-1, 576)"),
            m("view", nil, [.reshape], "as `reshape`", "h.view([-1, 576])"),
            m("transpose", ["dim0", "dim1"], required: 2, [.transpose], "dimensions `dim0` and `dim1` swapped", "h.transpose(0, 2)"),
            m("unsqueeze", ["dim"], required: 1, [.unsqueeze], "a dimension of size 1 inserted at `dim`", "h.unsqueeze(0)"),
            m("squeeze", ["dim"], [.squeeze], "without dimension `dim` if it has size 1 (every size-1 one when absent)", "h.squeeze(0)"),
            f("zeros", nil, required: 0, [.fill], "an f32 tensor of zeros of the given shape", "zeros(2, 576)"),
            f("ones", nil, required: 0, [.fill], "an f32 tensor of ones of the given shape", "ones([576])"),
            f("randn", nil, required: 0, [.random], "f32 samples of the standard normal of the given shape; `seed=` chooses the stream", "randn(2, 576, seed=1)"),
            f("rand", nil, required: 0, [.random], "f32 samples uniform on [0, 1) of the given shape; `seed=` chooses the stream", "rand([576], seed=1)"),
            f("randint", ["low", "high", "size", "seed"], required: 3, [.random], "i64 integers uniform on `low ..< high` of shape `size`", "randint(0, 49152, [1, 20], seed=3)"),
            f("len", ["input"], required: 1, [.constant], "the size of `input`'s first dimension (a compile-time int), or a list's length", "len(h)"),
            f("arange", ["start", "end", "step"], required: 1, [.constant], "the i64 integers `start ..< end` by `step` (`arange(n)` is `0 ..< n`), known when compiling", "arange(2, 10, 3)"),
            f("matmul", ["input", "other"], required: 2, [.binary], "`input @ other`", "matmul(h[0], h[0].transpose(0, 1))"),
            f("outer", ["input", "vec2"], required: 2, [.unsqueeze, .binary], "the outer product of two 1-d tensors: `[n, m]`", "outer(h[0, 0], h[0, 1])"),
            f("one_hot", ["input", "num_classes"], required: 2, [.unsqueeze, .binary, .cast], "i64 one-hot rows of the integer tensor `input`: a new last dimension of size `num_classes`", "one_hot(toks(\" Paris\"), 10)"),
            f("einsum", ["equation", "a", "b"], required: 2, [.reduce, .transpose, .reshape, .unsqueeze, .binary, .squeeze],
              "`torch.einsum` of one or two f32 tensors: letters per dimension, `->` and the output's letters (no `...`, no letter twice in one operand)",
              "einsum(\"btd,td->bt\", h, h[0])"),
            f("gather", ["input", "dim", "index"], required: 3, [.gather], "`torch.gather(input, dim, index)`: along `dim`, the entries `index` names", "gather(h, 2, [[[0, 5]]])"),
            f("diagonal", ["input"], required: 1, [.reshape, .index], "the diagonal of the last two dimensions (known when compiling), as a last dimension", "diagonal(h[0, 0:4, 0:4])"),
            f("zeros_like", ["input"], required: 1, [.fillLike], "zeros of `input`'s shape", "zeros_like(h)"),
            f("ones_like", ["input"], required: 1, [.fillLike], "ones of `input`'s shape", "ones_like(h)"),
            f("cat", ["tensors", "dim"], required: 1, [.cat], "`tensors` joined along `dim` (default 0)", "cat([h, h], dim=0)"),
            f("stack", ["tensors", "dim"], required: 1, [.stack], "`tensors` stacked along a new dimension `dim` (default 0)", "stack([h, h])"),
            f("where", ["condition", "input", "other"], required: 3, [.select], "`input` where `condition` holds, else `other` (broadcasting)", "where(h > 0, h, 0.0)"),
            f("cosine", ["a", "b", "dim"], required: 2, [.cosine], "cosine similarity of `a` and `b` along `dim` (default -1)", "cosine(h, h)"),
            f("tok", ["text"], required: 1, [.constant, .tokens], "the one token id of `text` (a compile-time error unless it is one token)", "tok(\" Paris\")"),
            f("toks", ["text"], required: 1, [.constant, .tokens], "the token ids of `text` (i64[N])", "toks(\" Paris\")"),
            f("load", ["file", "key"], required: 2, [.tensorConstant], "tensor `key` of a safetensors `file` (relative to the script), as f32", "load(\"steer.safetensors\", \"steer\")"),
        ]
        return rows
    }()
}
