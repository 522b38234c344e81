import StrataCore
import StrataFormat
import StrataKernels

/// RNN, GRU and LSTM (docs/FORMAT.md "Ops (1.2)"): batch-first, forward. W and R are packed once
/// here; the biases of X·Wᵀ are summed once (WB + RB) except RB_h of a GRU with
/// linear-before-reset, which stays with H·R_hᵀ.
extension PlanBuilder {
    mutating func inferRecurrent(_ r: NodeReader, index: Int) throws(StrataError) -> PlannedOp {
        let op = r.node.op
        let x = try r.value(0)
        guard x.dims.count == 2 else {
            throw r.fail(.shapeMismatch, "\(op) input '\(r.node.inputs[0])' has shape \(r.full(x.dims)); it needs [N, T, input_size] (batch-first)")
        }
        let steps = x.dims[0], inputSize = x.dims[1]
        let hiddenAttr = try r.int("hidden_size")
        guard hiddenAttr >= 1, hiddenAttr <= Int64(FormatLimits.maxDim) else {
            throw r.fail(.malformed, "attribute 'hidden_size' is \(hiddenAttr); it must be ≥ 1")
        }
        let hidden = Int(hiddenAttr)
        let cell: RecurrentPlan.Cell
        switch op {
        case "RNN":
            switch try r.string("activation", default: "tanh") {
            case "tanh": cell = .rnn(.tanh)
            case "relu": cell = .rnn(.relu)
            case let other: throw r.fail(.unsupported, "RNN activation '\(other)' is not supported; use \"tanh\" or \"relu\"")
            }
        case "GRU": cell = .gru(linearBeforeReset: try r.flag("linear_before_reset"))
        default: cell = .lstm
        }
        let gates = op == "RNN" ? 1 : op == "GRU" ? 3 : 4
        guard let gh = checkedMul(gates, hidden) else { throw r.fail(.shapeMismatch, "hidden_size \(hidden) overflows") }
        let (w, wp) = try r.requiredTensor(1, "a W tensor")
        guard w.dims == [gh, inputSize] else {
            throw r.fail(.shapeMismatch, "W '\(w.name)' has shape \(describeShape(w.dims)); for input \(r.full(x.dims)) and hidden_size \(hidden) it must be [\(gh), \(inputSize)]")
        }
        let (rt, rp) = try r.requiredTensor(2, "an R tensor")
        guard rt.dims == [gh, hidden] else {
            throw r.fail(.shapeMismatch, "R '\(rt.name)' has shape \(describeShape(rt.dims)); it must be [\(gh), \(hidden)]")
        }
        func bias(_ k: Int, _ what: String) throws(StrataError) -> UnsafePointer<Float>? {
            guard let (b, p) = try r.tensor(k) else { return nil }
            guard b.dims == [gh] else { throw r.fail(.shapeMismatch, "\(what) '\(b.name)' has shape \(describeShape(b.dims)); it must be [\(gh)]") }
            return p
        }
        let wb = try bias(3, "WB"), rb = try bias(4, "RB")
        func state(_ k: Int, _ what: String) throws(StrataError) -> String? {
            guard let v = try r.optionalValue(k) else { return nil }
            guard v.dims == [hidden] else {
                throw r.fail(.shapeMismatch, "\(what) '\(r.node.inputs[k])' has shape \(r.full(v.dims)); it must be [N, \(hidden)]")
            }
            return r.node.inputs[k]
        }
        let h0 = try state(5, "H0"), c0 = op == "LSTM" ? try state(6, "C0") : nil

        let linearBeforeReset: Bool
        if case .gru(let l) = cell { linearBeforeReset = l } else { linearBeforeReset = false }
        // Biases: X·Wᵀ gets WB + RB (but not RB_h of a linear-before-reset GRU, which H·R_hᵀ gets).
        let xBias = try OwnedFloats(count: gh)
        for j in 0..<gh {
            let keepR = !(linearBeforeReset && j >= 2 * hidden)
            xBias.pointer[j] = (wb?[j] ?? 0) + (keepR ? rb?[j] ?? 0 : 0)
        }
        plan.owned.append(xBias)
        var hBias: UnsafePointer<Float>? = nil
        if linearBeforeReset, let rb {
            let b = try OwnedFloats(count: gh)
            for j in 0..<gh { b.pointer[j] = j >= 2 * hidden ? rb[j] : 0 }
            plan.owned.append(b)
            hBias = UnsafePointer(b.pointer)
        }
        let packedW = try packedWeights(w, wp, n: gh, k: inputSize)
        let gruSplit = op == "GRU" && !linearBeforeReset
        let packedR = try packedWeights(rt, rp, n: gruSplit ? 2 * hidden : gh, k: hidden)
        let packedRh = gruSplit ? try packedWeights(rt, rp + 2 * hidden * hidden, n: hidden, k: hidden) : nil
        let recurrent = RecurrentPlan(cell: cell, steps: steps, inputSize: inputSize, hidden: hidden, w: packedW,
                                      xBias: UnsafePointer(xBias.pointer), r: packedR, rh: packedRh, hBias: hBias,
                                      hasH0: h0 != nil, hasC0: c0 != nil)
        guard let xgCount = checkedMul(steps, gh) else { throw r.fail(.shapeMismatch, "\(op) gate buffer overflows") }
        var scratch = [xgCount, recurrent.stateColumns]
        if gruSplit { scratch.append(2 * hidden) }
        let outputs: [[Int]] = [[steps, hidden], [hidden]] + (op == "LSTM" ? [[hidden]] : [])
        return try finish(r, index: index,
                          kind: opKind(r, inputs: [r.node.inputs[0]] + [h0, c0].compactMap { $0 }, scratch: scratch.count, .recurrent(recurrent)),
                          inputDims: x.dims, outputs: outputs, scratch: scratch)
    }
}
