import StrataCore
import StrataFormat
import StrataKernels

/// Op semantics and shape inference (docs/FORMAT.md, "Ops").
extension PlanBuilder {
    mutating func inferNode(_ node: Node, index: Int) throws(StrataError) -> PlannedOp {
        let label = node.label(index: index)
        let y = node.outputs[0]
        func fail(_ status: Status, _ message: String) -> StrataError { StrataError(status, "\(label): \(message)") }
        func value(_ k: Int) throws(StrataError) -> ValueState {
            let name = node.inputs[k]
            guard let v = values[name] else {
                throw fail(.unsupported, "input \(k) '\(name)' is a tensor; this op needs a computed value there")
            }
            return v
        }
        func tensor(_ k: Int) throws(StrataError) -> (TensorDescriptor, UnsafePointer<Float>)? {
            let name = node.inputs[k]
            if name.isEmpty { return nil }
            guard let t = file.tensor(named: name) else {
                throw fail(.unsupported, "input \(k) '\(name)' must be a stored tensor (weights), not a computed value")
            }
            guard t.dtype == .f32 || (node.op == "Linear" && k == 1) else {
                throw fail(.unsupported, "tensor '\(name)' has dtype \(t.dtype); this op takes f32 (only a Linear weight may be quantized)")
            }
            guard t.tensorLayout == .rowMajor || (node.op == "Linear" && k == 1) else {
                throw fail(.unsupported, "tensor '\(name)' has layout \(t.tensorLayout); only a Linear weight may be packed")
            }
            return (t, file.data(of: t).baseAddress!.assumingMemoryBound(to: Float.self))
        }
        func intAttr(_ key: String, default d: Int64) throws(StrataError) -> Int64 {
            guard let a = node.attribute(key) else { return d }
            guard case .int(let v) = a else { throw fail(.malformed, "attribute '\(key)' must be an int") }
            return v
        }
        /// Normalizes an axis of the full (batch-included) rank; throws when out of range.
        func axis(_ raw: Int64, rank: Int) throws(StrataError) -> Int {
            guard raw >= -Int64(rank), raw < Int64(rank) else {
                throw fail(.malformed, "axis \(raw) is out of range for rank \(rank)")
            }
            return Int(raw < 0 ? raw + Int64(rank) : raw)
        }
        func full(_ dims: [Int]) -> String { describeShape([-1] + dims) }

        var out: [Int]
        let kind: PlannedOp.Kind
        let inDims: [Int]
        switch node.op {
        case "Linear":
            let x = try value(0)
            inDims = x.dims
            guard let (w, wp) = try tensor(1) else { throw fail(.malformed, "Linear needs a weight tensor") }
            guard let k = x.dims.last else {
                throw fail(.shapeMismatch, "Linear input '\(node.inputs[0])' has shape \(full(x.dims)); it needs a feature dimension after the batch")
            }
            guard w.dims.count == 2, w.dims[1] == k, w.dims[0] >= 1 else {
                throw fail(.shapeMismatch, "weight '\(w.name)' has shape \(describeShape(w.dims)); for input \(full(x.dims)) it must be [out_features, \(k)]")
            }
            let n = w.dims[0]
            var bp: UnsafePointer<Float>? = nil
            if node.inputs.count > 2, let (b, p) = try tensor(2) {
                guard b.dims == [n] else {
                    throw fail(.shapeMismatch, "bias '\(b.name)' has shape \(describeShape(b.dims)); it must be [\(n)]")
                }
                bp = p
            }
            out = x.dims; out[out.count - 1] = n
            let packed = try packedWeights(w, wp, n: n, k: k)
            kind = .linear(x: node.inputs[0], w: packed, bias: bp, y: y, rowsPerSample: x.count / max(k, 1), n: n, k: k, activation: .identity)
        case "Relu", "Sigmoid", "Tanh":
            let x = try value(0)
            inDims = x.dims; out = x.dims
            let act: Activation = node.op == "Relu" ? .relu : node.op == "Sigmoid" ? .sigmoid : .tanh
            kind = .activation(x: node.inputs[0], y: y, count: x.count, activation: act)
        case "Identity":
            let x = try value(0)
            inDims = x.dims; out = x.dims
            kind = .alias(x: node.inputs[0], y: y)
        case "Flatten":
            let x = try value(0)
            inDims = x.dims
            let a = try axis(try intAttr("axis", default: 1), rank: x.dims.count + 1)
            guard a == 1 else {
                throw fail(.unsupported, "Flatten at axis \(a) is not supported; only axis 1 (keep the batch, flatten the rest) is")
            }
            out = [x.count]
            kind = .alias(x: node.inputs[0], y: y)
        case "Reshape":
            let x = try value(0)
            inDims = x.dims
            guard case .ints(let target)? = node.attribute("shape"), !target.isEmpty else {
                throw fail(.malformed, "Reshape needs a non-empty 'shape' attribute")
            }
            out = try reshapeDims(target: target, input: x.dims, fail: fail)
            kind = .alias(x: node.inputs[0], y: y)
        default:
            return try inferOp(node, index: index)  // Add, Softmax and the ops of format 1.2
        }
        guard checkedProduct(out) != nil else { throw fail(.shapeMismatch, "output shape \(full(out)) overflows") }
        let root: String
        if case .alias(let x, _) = kind { root = values[x]!.root } else { root = y }
        values[y] = ValueState(dims: out, root: root)
        let name = node.name.isEmpty ? "#\(index)" : node.name
        return PlannedOp(kind: kind, label: node.op, nodeNames: [name], inputDims: inDims, outputDims: out)
    }

    /// W in the panel16 layout the GEMM reads: packed once here, owned by the plan.
    mutating func packedWeights(_ t: TensorDescriptor, _ p: UnsafePointer<Float>, n: Int, k: Int) throws(StrataError) -> PackedWeights {
        if t.tensorLayout != .rowMajor {  // used in place
            let weights = try quantizedWeights(t, UnsafeRawPointer(p), n: n, k: k)
            if weights.kind != .f32 { plan.gemmScratchFloats = gemmWorkspaceFloats }
            return weights
        }
        guard let count = Panel16.packedCount(n: n, k: k) else {
            throw StrataError(.shapeMismatch, "weight '\(t.name)' \(describeShape(t.dims)) is too large to pack")
        }
        let buffer = try OwnedFloats(count: count)
        pack_f32_panel16(w: p, n: n, k: k, out: buffer.pointer)
        plan.owned.append(buffer)
        return PackedWeights(kind: .f32, values: UnsafeRawPointer(buffer.pointer))
    }

    /// Resolves a Reshape target (batch included) against per-sample input dims.
    func reshapeDims(target: [Int64], input: [Int], fail: (Status, String) -> StrataError) throws(StrataError) -> [Int] {
        let perSample = input.reduce(1, *)
        guard target[0] == -1 || target[0] == 0 else {
            throw fail(.unsupported, "Reshape to \(describeList(target)) fixes the batch dimension; dimension 0 must be -1 or 0 (keep the batch)")
        }
        var dims: [Int] = []
        var inferAt: Int? = nil
        for (i, t) in target.enumerated().dropFirst() {
            if t == -1 {
                guard target[0] == 0, inferAt == nil else {
                    throw fail(.unsupported, "Reshape to \(describeList(target)) infers more than one dimension or mixes the batch with features")
                }
                inferAt = dims.count; dims.append(1)
            } else if t == 0 {
                guard i - 1 < input.count else { throw fail(.malformed, "Reshape dim \(i) is 0 but the input has no dimension \(i)") }
                dims.append(input[i - 1])
            } else if t > 0, t <= Int64(FormatLimits.maxDim) {
                dims.append(Int(t))
            } else {
                throw fail(.malformed, "Reshape target \(describeList(target)) has invalid dimension \(t)")
            }
        }
        guard let known = checkedProduct(dims) else { throw fail(.malformed, "Reshape target \(describeList(target)) overflows") }
        if let at = inferAt {
            guard known > 0, perSample % known == 0 else {
                throw fail(.shapeMismatch, "Reshape of \(describeShape([-1] + input)) to \(describeList(target)): \(perSample) elements per sample do not divide")
            }
            dims[at] = perSample / known
        } else if known != perSample {
            throw fail(.unsupported, "Reshape of \(describeShape([-1] + input)) to \(describeList(target)) changes the number of elements per sample (\(perSample) → \(known)): it would mix the batch with features")
        }
        return dims
    }
}
