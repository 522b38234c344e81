import StrataCore
import StrataFormat

/// Identity, Flatten and Reshape (docs/FORMAT.md "Ops"): the output is the input seen with other
/// per-sample dims, in the same storage, so no step runs. A graph output stored apart from the
/// value it names gets a final `copy` step (PlanBuilder+Storage.swift).
extension PlanBuilder {
    static let shapeOps: Set<String> = ["Identity", "Flatten", "Reshape"]

    mutating func planShape(_ r: NodeReader) throws(StrataError) -> PlannedOp {
        let x = try r.value(0)
        let out: [Int]
        switch r.node.op {
        case "Identity":
            out = x.dims
        case "Flatten":
            let rank = x.dims.count + 1
            let raw = try r.int("axis", default: 1)
            guard raw >= -Int64(rank), raw < Int64(rank) else {
                throw r.fail(.malformed, "axis \(raw) is out of range for rank \(rank)")
            }
            let a = Int(raw < 0 ? raw + Int64(rank) : raw)
            guard a == 1 else {
                throw r.fail(.unsupported, "Flatten at axis \(a) is not supported; only axis 1 (keep the batch, flatten the rest) is")
            }
            out = [x.count]
        default:
            guard case .ints(let target)? = r.node.attribute("shape"), !target.isEmpty else {
                throw r.fail(.malformed, "Reshape needs a non-empty 'shape' attribute")
            }
            out = try reshapeDims(r, target: target, input: x.dims)
        }
        return try alias(r, of: r.node.inputs[0], inputDims: x.dims, dims: out)
    }

    /// Resolves a Reshape target (batch included) against per-sample input dims.
    func reshapeDims(_ r: NodeReader, target: [Int64], input: [Int]) throws(StrataError) -> [Int] {
        let perSample = input.reduce(1, *)
        guard target[0] == -1 || target[0] == 0 else {
            throw r.fail(.unsupported, "Reshape to \(describeList(target)) fixes the batch dimension; dimension 0 must be -1 or 0 (keep the batch)")
        }
        var dims: [Int] = []
        var inferAt: Int? = nil
        for (i, t) in target.enumerated().dropFirst() {
            if t == -1 {
                guard target[0] == 0, inferAt == nil else {
                    throw r.fail(.unsupported, "Reshape to \(describeList(target)) infers more than one dimension or mixes the batch with features")
                }
                inferAt = dims.count; dims.append(1)
            } else if t == 0 {
                guard i - 1 < input.count else { throw r.fail(.malformed, "Reshape dim \(i) is 0 but the input has no dimension \(i)") }
                dims.append(input[i - 1])
            } else if t > 0, t <= Int64(FormatLimits.maxDim) {
                dims.append(Int(t))
            } else {
                throw r.fail(.malformed, "Reshape target \(describeList(target)) has invalid dimension \(t)")
            }
        }
        guard let known = checkedProduct(dims) else { throw r.fail(.malformed, "Reshape target \(describeList(target)) overflows") }
        if let at = inferAt {
            guard known > 0, perSample % known == 0 else {
                throw r.fail(.shapeMismatch, "Reshape of \(describeShape([-1] + input)) to \(describeList(target)): \(perSample) elements per sample do not divide")
            }
            dims[at] = perSample / known
        } else if known != perSample {
            throw r.fail(.unsupported, "Reshape of \(describeShape([-1] + input)) to \(describeList(target)) changes the number of elements per sample (\(perSample) → \(known)): it would mix the batch with features")
        }
        return dims
    }
}

extension Session {
    @inline(__always)
    func runCopy(count: Int, _ step: Step, batch: Int, _ ptr: RunBuffers) {
        ptr(step.outputs[0]).update(from: ptr(step.inputs[0]), count: count * batch)
    }
}
