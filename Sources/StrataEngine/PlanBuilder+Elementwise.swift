import StrataCore
import StrataFormat
import StrataKernels

/// Add, Softmax/LogSoftmax and the ops of format 1.2 (docs/FORMAT.md "Ops (1.2)"): dispatch,
/// and the elementwise, broadcasting and normalization ops.
extension PlanBuilder {
    mutating func inferOp(_ node: Node, index: Int) throws(StrataError) -> PlannedOp {
        let r = NodeReader(node: node, label: node.label(index: index), file: file, values: values)
        switch node.op {
        case "Add", "Sub", "Mul", "Div": return try inferBinary(r, index: index)
        case "LeakyRelu", "Gelu", "Silu", "Erf": return try inferActivation(r, index: index)
        case "Softmax", "LogSoftmax": return try inferSoftmax(r, index: index)
        case "LayerNormalization": return try inferLayerNorm(r, index: index)
        case "Conv": return try inferConv(r, index: index)
        case "MaxPool", "AveragePool": return try inferPool(r, index: index)
        case "GlobalAveragePool": return try inferGlobalAveragePool(r, index: index)
        case "RNN", "GRU", "LSTM": return try inferRecurrent(r, index: index)
        default: throw r.fail(.unsupported, "op '\(node.op)' is not supported by this engine")
        }
    }

    /// Records the node's outputs (per-sample dims) and scratch values, and returns its op.
    mutating func finish(_ r: NodeReader, index: Int, kind: PlannedOp.Kind, inputDims: [Int],
                         outputs: [[Int]], scratch: [Int] = []) throws(StrataError) -> PlannedOp {
        for (name, dims) in zip(r.node.outputs, outputs) {
            guard checkedProduct(dims) != nil else { throw r.fail(.shapeMismatch, "output shape \(r.full(dims)) overflows") }
            values[name] = ValueState(dims: dims, root: name)
        }
        for (k, count) in scratch.enumerated() {
            let name = PlanBuilder.scratchName(r.node.outputs[0], k)
            values[name] = ValueState(dims: [count], root: name)
        }
        let name = r.node.name.isEmpty ? "#\(index)" : r.node.name
        return PlannedOp(kind: kind, label: r.node.op, nodeNames: [name], inputDims: inputDims, outputDims: outputs[0])
    }

    /// The name of scratch value `k` of the node whose first output is `y` (not a valid file name,
    /// so it cannot collide).
    static func scratchName(_ y: String, _ k: Int) -> String { "\u{0}scratch\(k)\u{0}\(y)" }

    /// The `.op` kind of a node whose scratch values are numbered 0 ..< `scratch`.
    func opKind(_ r: NodeReader, inputs: [String], scratch: Int = 0, _ kernel: OpKernel) -> PlannedOp.Kind {
        .op(inputs: inputs, outputs: r.node.outputs, scratch: (0..<scratch).map { PlanBuilder.scratchName(r.node.outputs[0], $0) },
            kernel: kernel)
    }

    // MARK: Broadcasting binary ops

    mutating func inferBinary(_ r: NodeReader, index: Int) throws(StrataError) -> PlannedOp {
        let op: BinaryOp = ["Add": .add, "Sub": .sub, "Mul": .mul][r.node.op] ?? .div
        // Each operand as per-sample dims, whether it carries the batch, and its tensor pointer.
        typealias Operand = (dims: [Int], value: String?, constant: UnsafePointer<Float>?, text: String)
        func operand(_ k: Int) throws(StrataError) -> Operand? {
            if let v = values[r.node.inputs[k]] { return (v.dims, r.node.inputs[k], nil, r.full(v.dims)) }
            return nil
        }
        var a = try operand(0), b = try operand(1)
        guard a != nil || b != nil else {
            throw r.fail(.unsupported, "input 0 '\(r.node.inputs[0])' is a tensor; this op needs a computed value there (at least one operand)")
        }
        let valueRank = (a ?? b)!.dims.count + 1  // full rank of a value operand
        func tensorOperand(_ k: Int) throws(StrataError) -> Operand {
            let (t, p) = try r.requiredTensor(k, "a value or tensor")
            var dims = t.dims
            if dims.count >= valueRank {
                guard dims.count == valueRank, dims[0] == 1 else {
                    throw r.fail(.unsupported, "\(r.node.op) of \((a ?? b)!.text) and tensor '\(t.name)' \(describeShape(t.dims)): the tensor would broadcast over the batch (dim 0)")
                }
                dims.removeFirst()
            }
            return (dims, nil, p, "tensor '\(t.name)' \(describeShape(t.dims))")
        }
        if a == nil { a = try tensorOperand(0) }
        if b == nil { b = try tensorOperand(1) }
        let (x, y) = (a!, b!)
        if x.value != nil && y.value != nil && x.dims.count != y.dims.count {
            throw r.fail(.unsupported, "\(r.node.op) of \(x.text) and \(y.text): values of different ranks would broadcast the batch against a feature dimension")
        }
        // numpy broadcasting of the per-sample dims, aligned right.
        let rank = max(x.dims.count, y.dims.count)
        let ad = [Int](repeating: 1, count: rank - x.dims.count) + x.dims
        let bd = [Int](repeating: 1, count: rank - y.dims.count) + y.dims
        var out: [Int] = []
        for i in 0..<rank {
            guard ad[i] == bd[i] || ad[i] == 1 || bd[i] == 1 else {
                throw r.fail(.shapeMismatch, "\(r.node.op) of \(x.text) and \(y.text): shapes do not broadcast")
            }
            out.append(max(ad[i], bd[i]))
        }
        guard let count = checkedProduct(out) else { throw r.fail(.shapeMismatch, "output shape \(r.full(out)) overflows") }
        func strides(_ d: [Int]) -> [Int] {
            var s = [Int](repeating: 0, count: d.count), step = 1
            for i in d.indices.reversed() { s[i] = d[i] == 1 ? 0 : step; step *= d[i] }
            return s
        }
        // Merge adjacent dims across which all three are contiguous (or both operands broadcast).
        var dims: [Int] = [], sa: [Int] = [], sb: [Int] = [], sy: [Int] = []
        let fa = strides(ad), fb = strides(bd), fy = strides(out)
        for i in out.indices.reversed() where out[i] != 1 {
            if let d = dims.first, sa[0] * d == fa[i], sb[0] * d == fb[i], sy[0] * d == fy[i] {
                dims[0] *= out[i]
            } else {
                dims.insert(out[i], at: 0); sa.insert(fa[i], at: 0); sb.insert(fb[i], at: 0); sy.insert(fy[i], at: 0)
            }
        }
        if dims.isEmpty { dims = [1]; sa = [0]; sb = [0]; sy = [1] }
        let plan = BroadcastPlan(dims: dims, aStrides: sa, bStrides: sb, yStrides: sy,
                                 aBatchStride: x.value == nil ? 0 : ad.reduce(1, *),
                                 bBatchStride: y.value == nil ? 0 : bd.reduce(1, *),
                                 aConstant: x.constant, bConstant: y.constant, count: count)
        let inputs = [x.value, y.value].compactMap { $0 }
        return try finish(r, index: index, kind: opKind(r, inputs: inputs, .binary(op, plan)),
                          inputDims: x.value != nil ? x.dims : y.dims, outputs: [out])
    }

    // MARK: Activations, Softmax, LayerNormalization

    mutating func inferActivation(_ r: NodeReader, index: Int) throws(StrataError) -> PlannedOp {
        let x = try r.value(0)
        let activation: Activation
        switch r.node.op {
        case "LeakyRelu":
            let alpha = try r.float("alpha", default: 0.01)
            guard alpha.isFinite else { throw r.fail(.malformed, "attribute 'alpha' is \(alpha); it must be finite") }
            activation = .leakyRelu(alpha: alpha)
        case "Gelu":
            switch try r.string("approximate", default: "none") {
            case "none": activation = .gelu
            case "tanh": activation = .geluTanh
            case let other: throw r.fail(.unsupported, "Gelu approximation '\(other)' is not supported; use \"none\" or \"tanh\"")
            }
        case "Silu": activation = .silu
        default: activation = .erf
        }
        return try finish(r, index: index, kind: .activation(x: r.node.inputs[0], y: r.node.outputs[0], count: x.count, activation: activation),
                          inputDims: x.dims, outputs: [x.dims])
    }

    mutating func inferSoftmax(_ r: NodeReader, index: Int) throws(StrataError) -> PlannedOp {
        let x = try r.value(0)
        let a = try r.axis("axis", default: -1, rank: x.dims.count + 1, dims: x.dims)
        let n = x.dims[a - 1], inner = x.dims[a...].reduce(1, *), outer = x.dims[..<(a - 1)].reduce(1, *)
        let log = r.node.op == "LogSoftmax"
        let kind: PlannedOp.Kind = inner == 1
            ? .softmax(x: r.node.inputs[0], y: r.node.outputs[0], rowsPerSample: outer, cols: n, log: log)
            : opKind(r, inputs: [r.node.inputs[0]], .softmaxAxis(outer: outer, n: n, inner: inner, log: log))
        return try finish(r, index: index, kind: kind, inputDims: x.dims, outputs: [x.dims])
    }

    mutating func inferLayerNorm(_ r: NodeReader, index: Int) throws(StrataError) -> PlannedOp {
        let x = try r.value(0)
        let a = try r.axis("axis", default: -1, rank: x.dims.count + 1, dims: x.dims)
        let epsilon = try r.float("epsilon", default: 1e-5)
        guard epsilon > 0, epsilon.isFinite else { throw r.fail(.malformed, "attribute 'epsilon' is \(epsilon); it must be > 0") }
        let normalized = Array(x.dims[(a - 1)...])
        let (scale, sp) = try r.requiredTensor(1, "a Scale tensor")
        guard scale.dims == normalized else {
            throw r.fail(.shapeMismatch, "Scale '\(scale.name)' has shape \(describeShape(scale.dims)); for input \(r.full(x.dims)) and axis \(a) it must be \(describeShape(normalized))")
        }
        var bp: UnsafePointer<Float>? = nil
        if let (b, p) = try r.tensor(2) {
            guard b.dims == normalized else {
                throw r.fail(.shapeMismatch, "B '\(b.name)' has shape \(describeShape(b.dims)); it must be \(describeShape(normalized))")
            }
            bp = p
        }
        let cols = normalized.reduce(1, *)
        return try finish(r, index: index, kind: opKind(r, inputs: [r.node.inputs[0]],
                                                         .layerNorm(rows: x.count / cols, cols: cols, scale: sp, bias: bp, epsilon: epsilon)),
                          inputDims: x.dims, outputs: [x.dims])
    }
}
