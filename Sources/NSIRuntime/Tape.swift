import NSITensor

/// The record of one pass's differentiable work, for its reverse pass: a node per value
/// that carries a gradient, with the nodes it was computed from and how to send a
/// gradient back to them. Values that depend on no node (weights, constants, everything
/// before the first point whose gradient is wanted) are not recorded, so the forward keeps
/// only what the reverse pass needs, from `start` to the last value used.
///
/// Points are nodes of their own: the reverse pass stops at each to let the plan read or
/// change the gradient flowing through it (`atPoint`), in reverse point order.
public final class Tape {
    /// Sends the gradient of a node's value back: one gradient (or nil, none) per input.
    public typealias Backward = (Tensor) throws -> [Tensor?]

    struct Node {
        var inputs: [Int?]
        var backward: Backward?
        /// The point this node stands for, and its value's shape.
        var point: Int?
        var shape: [Int]
        /// The storages its backward keeps (counted once however many nodes keep one).
        var saved: [ObjectIdentifier]
    }

    /// The earliest point whose gradient the plan uses: recording starts there.
    public let start: Int
    /// The most bytes the nodes may keep for the reverse pass.
    public let maxSavedBytes: Int
    private var nodes: [Node] = []
    private var grads: [Tensor?] = []
    /// Per storage kept for the reverse pass: its bytes and how many nodes keep it.
    private var kept: [ObjectIdentifier: (bytes: Int, nodes: Int)] = [:]
    /// Bytes the forward keeps for the reverse pass now, and at most.
    public private(set) var savedBytes = 0
    public private(set) var peakSavedBytes = 0
    /// The node of the tensor a hook is given at a point (nil: it carries no gradient);
    /// a hook that records work on it sets the node of its result here.
    public var current: Int?
    /// Points recorded, in forward order, for reports.
    public private(set) var pointsRecorded: [Int] = []
    /// The points whose gradient `run` hands to `atPoint` (nil: every point); at the
    /// others the gradient flows on untouched.
    public var watched: Set<Int>?

    public init(start: Int, maxSavedBytes: Int = .max) {
        self.start = start
        self.maxSavedBytes = maxSavedBytes
    }

    public var nodeCount: Int { nodes.count }

    /// Records a value computed from `inputs` (nil: a constant); returns its node, or nil
    /// when no input carries a gradient (nothing is kept then). `saved` are the tensors
    /// `backward` holds, counted against the limit.
    public func record(_ inputs: [Int?], shape: [Int], saved: [Tensor] = [], _ backward: @escaping Backward) throws -> Int? {
        guard inputs.contains(where: { $0 != nil }) else { return nil }
        // A storage several nodes keep (a norm's input, kept by its factor and its
        // product) is counted once.
        var ids: [ObjectIdentifier] = []
        for t in saved {
            let id = ObjectIdentifier(t.storage)
            guard !ids.contains(id) else { continue }
            ids.append(id)
            if let k = kept[id] {
                kept[id] = (k.bytes, k.nodes + 1)
            } else {
                let bytes = t.storage.byteCount
                try keep(bytes)
                kept[id] = (bytes, 1)
            }
        }
        nodes.append(Node(inputs: inputs, backward: backward, point: nil, shape: shape, saved: ids))
        grads.append(nil)
        return nodes.count - 1
    }

    /// Charges `bytes` kept for the reverse pass (memory a node holds outside `saved`).
    public func keep(_ bytes: Int) throws {
        guard bytes <= maxSavedBytes - savedBytes else {
            throw RuntimeError(.memory, "the reverse pass would keep more than \(maxSavedBytes) bytes of activations "
                               + "(\(savedBytes) kept so far, \(bytes) more asked)")
        }
        savedBytes += bytes
        peakSavedBytes = max(peakSavedBytes, savedBytes)
    }

    /// The node of the value the hooks at a point are given, from the node `input` (nil at
    /// the first recorded point: gradients start there). The value the hooks see has
    /// `shape`; the pass's own tensor had `inputShape`.
    public func enter(from input: Int?, shape: [Int], inputShape: [Int]) -> Int {
        nodes.append(Node(inputs: [input], backward: { g in [g.reshape(inputShape)] }, point: nil, shape: shape, saved: []))
        grads.append(nil)
        return nodes.count - 1
    }

    /// Makes `node` (the point's value once its hooks are done, of the shape the hooks
    /// see) the point's: the reverse pass stops there for the plan's gradient work.
    public func mark(_ node: Int, point: Int) {
        nodes[node].point = point
        pointsRecorded.append(point)
    }

    /// Adds `grad` to a node's gradient (a `backward` starts the pass this way).
    public func seed(_ node: Int, _ grad: Tensor) {
        accumulate(node, grad)
    }

    private func accumulate(_ node: Int, _ grad: Tensor) {
        let shape = nodes[node].shape
        var g = grad.dtype == .f32 ? grad : grad.cast(to: .f32)
        if g.shape != shape { g = g.reshape(shape) }
        if let existing = grads[node] {
            grads[node] = existing + g
        } else {
            grads[node] = g
        }
    }

    /// The reverse pass: every node from the last to the first, each sending its
    /// gradient to its inputs. At a point node `atPoint` gets the gradient for the whole
    /// batch (zeros where none arrived) and may change it in place before it flows on.
    /// Nodes are dropped as they are passed, so their memory goes as the pass goes.
    public func run(atPoint: (Int, Tensor) throws -> Void, check: () throws -> Void = {}) throws {
        for i in nodes.indices.reversed() {
            let node = nodes[i]
            var g = grads[i]
            grads[i] = nil
            if let p = node.point, watched?.contains(p) ?? true {
                let owned = g.map { $0.copy() } ?? Tensor(zeros: node.shape)
                try atPoint(p, owned)
                g = owned
                try check()
            }
            if let g, let backward = node.backward {
                let inputGrads = try backward(g)
                for (input, ig) in zip(node.inputs, inputGrads) {
                    if let input, let ig { accumulate(input, ig) }
                }
            }
            nodes[i].backward = nil
            for id in node.saved {
                guard let k = kept[id] else { continue }
                if k.nodes > 1 { kept[id] = (k.bytes, k.nodes - 1) } else { kept[id] = nil; savedBytes -= k.bytes }
            }
        }
        nodes = []
        grads = []
        kept = [:]
    }
}
