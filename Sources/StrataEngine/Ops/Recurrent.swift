import StrataCore
import StrataFormat
import StrataKernels

/// RNN, GRU and LSTM (docs/FORMAT.md "Ops"): batch-first, forward. W and R are packed once
/// here; the biases of X·Wᵀ are summed once (WB + RB) except RB_h of a GRU with
/// linear-before-reset, which stays with H·R_hᵀ.
///
/// A recurrent layer, batch-first. Inputs: X, then H0 and C0 when present; outputs Y, Y_h (, Y_c);
/// scratch: the gate pre-activations of all steps (`T · G · H`), those of one step from the state
/// (`G · H`), the state `H`, and for GRU without linear-before-reset `r ⊙ H` and its product
/// (`2 · H`).
struct RecurrentPlan {
    enum Cell { case rnn(Activation), gru(linearBeforeReset: Bool), lstm }
    var cell: Cell
    var steps: Int, inputSize: Int, hidden: Int
    /// W packed (`[G·H, I]`) and the bias of X·Wᵀ (WB + RB, except RB_h of a GRU with
    /// linear-before-reset), `G · H` values.
    var w: PackedWeights
    var xBias: UnsafePointer<Float>
    /// R packed: all gates (`[G·H, H]`), or for GRU without linear-before-reset the z and r gates
    /// (`[2H, H]`), with `rh` the h gate (`[H, H]`).
    var r: PackedWeights
    var rh: PackedWeights?
    /// Bias of H·Rᵀ (GRU with linear-before-reset: 0 for z and r, RB_h for h), or nil.
    var hBias: UnsafePointer<Float>?
    var hasH0: Bool, hasC0: Bool
    /// Where this layer's state starts in a batch row of a stateful session's held state
    /// (Session+State.swift): `H` (`hidden` floats), then `C` for LSTM.
    var stateOffset = 0
    /// H0/C0 are `[N, stateRows, H]` (1.5) and this layer starts from row `stateIndex`; `[N, H]`
    /// is `stateRows` 1.
    var stateRows = 1, stateIndex = 0
    /// `direction = "reverse"` (1.5): the steps run from the last to the first; Y keeps time order.
    var reverse = false

    var gates: Int {
        switch cell { case .rnn: return 1; case .gru: return 3; case .lstm: return 4 }
    }
    /// Columns of the per-step product H·Rᵀ.
    var stateColumns: Int {
        if case .gru(false) = cell { return 2 * hidden }
        return gates * hidden
    }
}

extension PlanBuilder {
    static let recurrentOps: Set<String> = ["RNN", "GRU", "LSTM"]

    mutating func planRecurrent(_ r: NodeReader) throws(StrataError) -> PlannedOp {
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
        guard let (w, wp) = try r.weightTensor(1) else { throw r.fail(.malformed, "\(op) needs a W tensor at input 1") }
        guard w.dims == [gh, inputSize] else {
            throw r.fail(.shapeMismatch, "W '\(w.name)' has shape \(describeShape(w.dims)); for input \(r.full(x.dims)) and hidden_size \(hidden) it must be [\(gh), \(inputSize)]")
        }
        guard let (rt, rp) = try r.weightTensor(2) else { throw r.fail(.malformed, "\(op) needs an R tensor at input 2") }
        guard rt.dims == [gh, hidden] else {
            throw r.fail(.shapeMismatch, "R '\(rt.name)' has shape \(describeShape(rt.dims)); it must be [\(gh), \(hidden)]")
        }
        func bias(_ k: Int, _ what: String) throws(StrataError) -> UnsafePointer<Float>? {
            guard let (b, p) = try r.tensor(k) else { return nil }
            guard b.dims == [gh] else { throw r.fail(.shapeMismatch, "\(what) '\(b.name)' has shape \(describeShape(b.dims)); it must be [\(gh)]") }
            return p
        }
        let wb = try bias(3, "WB"), rb = try bias(4, "RB")
        let stateIndex = try r.int("state_index", default: 0)
        var stateRows = 1
        func state(_ k: Int, _ what: String) throws(StrataError) -> String? {
            guard let v = try r.optionalValue(k) else { return nil }
            if v.dims.count == 2, v.dims[1] == hidden {
                guard stateIndex < Int64(v.dims[0]) else {
                    throw r.fail(.shapeMismatch, "state_index \(stateIndex) is out of range for \(what) '\(r.node.inputs[k])' of shape \(r.full(v.dims))")
                }
                stateRows = v.dims[0]
            } else {
                guard v.dims == [hidden], stateIndex == 0 else {
                    throw r.fail(.shapeMismatch, "\(what) '\(r.node.inputs[k])' has shape \(r.full(v.dims)); it must be [N, \(hidden)] or [N, S, \(hidden)]")
                }
            }
            return r.node.inputs[k]
        }
        guard stateIndex >= 0 else { throw r.fail(.malformed, "attribute 'state_index' is \(stateIndex); it must be ≥ 0") }
        let reverse: Bool
        switch try r.string("direction", default: "forward") {
        case "forward": reverse = false
        case "reverse": reverse = true
        case let other: throw r.fail(.unsupported, "\(op) direction '\(other)' is not supported; use \"forward\" or \"reverse\" (a bidirectional layer is one of each)")
        }
        let h0 = try state(5, "H0")
        let h0Rows = stateRows
        stateRows = 1
        let c0 = op == "LSTM" ? try state(6, "C0") : nil
        if h0 != nil, c0 != nil, stateRows != h0Rows {
            throw r.fail(.shapeMismatch, "H0 and C0 have different shapes; they must match")
        }
        stateRows = max(stateRows, h0Rows)

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
        // W and R: f32 row-major (packed here) or weight-only panel16 used in place, as a Linear weight.
        for t in [w, rt] where t.tensorLayout == .panel16k4 {
            throw r.fail(.unsupported, "\(op) weight '\(t.name)' is dynamic int8 (layout panel16k4), which only Linear runs; store it as int8")
        }
        let packedW = try packedWeights(w, wp, n: gh, k: inputSize)
        let gruSplit = op == "GRU" && !linearBeforeReset
        if gruSplit, rt.tensorLayout != .rowMajor {
            // The split below reads rows 2h..3h of R as their own matrix, which only f32 row-major allows.
            throw r.fail(.unsupported, "R '\(rt.name)' is stored \(rt.dtype) in layout \(rt.tensorLayout); a GRU with linear_before_reset 0 needs an f32 R")
        }
        let packedR = try packedWeights(rt, rp, n: gruSplit ? 2 * hidden : gh, k: hidden)
        let packedRh = gruSplit ? try packedWeights(rt, rp + 2 * hidden * hidden * MemoryLayout<Float>.stride, n: hidden, k: hidden) : nil
        let recurrent = RecurrentPlan(cell: cell, steps: steps, inputSize: inputSize, hidden: hidden, w: packedW,
                                      xBias: UnsafePointer(xBias.pointer), r: packedR, rh: packedRh, hBias: hBias,
                                      hasH0: h0 != nil, hasC0: c0 != nil, stateOffset: plan.recurrentStateFloats,
                                      stateRows: stateRows, stateIndex: Int(stateIndex), reverse: reverse)
        if reverse { plan.hasReverseRecurrent = true }
        plan.recurrentStateFloats += op == "LSTM" ? 2 * hidden : hidden
        guard let xgCount = checkedMul(steps, gh) else { throw r.fail(.shapeMismatch, "\(op) gate buffer overflows") }
        var scratch = [xgCount, recurrent.stateColumns]
        if gruSplit { scratch.append(2 * hidden) }
        let outputs: [[Int]] = [[steps, hidden], [hidden]] + (op == "LSTM" ? [[hidden]] : [])
        return try step(r, inputs: [r.node.inputs[0]] + [h0, c0].compactMap { $0 }, .recurrent(recurrent),
                        inputDims: x.dims, outputs: outputs, scratch: scratch)
    }
}

extension Session {
    func runRecurrent(_ plan: RecurrentPlan, _ op: Step, batch: Int, _ ptr: RunBuffers) {
        let hidden = plan.hidden, t = plan.steps, gh = plan.gates * hidden, sc = plan.stateColumns
        let x = ptr(op.inputs[0])
        var nextInput = 1
        let h0: UnsafeMutablePointer<Float>? = plan.hasH0 ? ptr(op.inputs[nextInput]) : nil
        if plan.hasH0 { nextInput += 1 }
        let c0: UnsafeMutablePointer<Float>? = plan.hasC0 ? ptr(op.inputs[nextInput]) : nil
        let y = ptr(op.outputs[0])
        let h = ptr(op.outputs[1])  // Y_h holds the running state
        let c: UnsafeMutablePointer<Float>? = op.outputs.count > 2 ? ptr(op.outputs[2]) : nil  // Y_c likewise
        let xg = ptr(op.scratch[0]), hr = ptr(op.scratch[1])
        let rh: UnsafeMutablePointer<Float>? = op.scratch.count > 2 ? ptr(op.scratch[2]) : nil
        let hh = rh.map { $0 + batch * hidden }
        // X·Wᵀ (+ biases) for every step at once.
        recurrentProduct(x: x, packed: plan.w, bias: plan.xBias, y: xg, m: batch * t, n: gh, k: plan.inputSize)
        if let held = recurrentState.heldRows(layerOffset: plan.stateOffset) {
            loadHeldState(held, h: h, c: c, batch: batch, hidden: hidden)
        } else {
            let rows = plan.stateRows, first = plan.stateIndex * hidden
            if let h0 { copy_rows_f32(x: h0 + first, ldx: rows * hidden, y: h, ldy: hidden, rows: batch, cols: hidden) }
            else { h.update(repeating: 0, count: batch * hidden) }
            if let c {
                if let c0 { copy_rows_f32(x: c0 + first, ldx: rows * hidden, y: c, ldy: hidden, rows: batch, cols: hidden) }
                else { c.update(repeating: 0, count: batch * hidden) }
            }
        }
        for s in 0..<t {
            let step = plan.reverse ? t - 1 - s : s
            recurrentProduct(x: h, packed: plan.r, bias: plan.hBias, y: hr, m: batch, n: sc, k: hidden)
            var job = RecurrentCellsJob(cell: .lstm, xg: xg, hr: hr, hh: nil, rh: nil, h: h, c: c, y: y, batch: batch, steps: t,
                                        step: step, gh: gh, sc: sc, hidden: hidden, threads: 1)
            switch plan.cell {
            case .rnn(let activation):
                job.cell = .rnn(activation)
            case .gru(let linearBeforeReset):
                if !linearBeforeReset, let rh, let hh, let rhPacked = plan.rh {
                    job.cell = .gruReset
                    job.rh = rh
                    runCells(&job)
                    recurrentProduct(x: rh, packed: rhPacked, bias: nil, y: hh, m: batch, n: hidden, k: hidden)
                    job.hh = hh
                }
                job.cell = .gru
            case .lstm:
                break
            }
            runCells(&job)
        }
        if let next = recurrentState.nextRows(layerOffset: plan.stateOffset) {
            storeHeldState(next, h: h, c: c, batch: batch, hidden: hidden)
        }
    }

    /// A product of a recurrent layer, `y = x · Wᵀ + bias` (X·Wᵀ of all steps, or a step's H·Rᵀ):
    /// at most 96 rows (the GEMM's M block) of f32 weights on one thread go straight to the register tiles
    /// (`gemm_f32_packed16_small_simd8`: a stateful frame's X·Wᵀ and every step's product at a
    /// batch up to 96); quantized weights, more rows, or work large enough to split between the
    /// session's threads, through `linear`. Both give the same bits for f32 weights (one FMA chain
    /// per output in k order, then the bias), so the choice never changes a result.
    @inline(__always)
    func recurrentProduct(x: UnsafeMutablePointer<Float>, packed: PackedWeights, bias: UnsafePointer<Float>?,
                          y: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int) {
        if packed.kind == .f32, m <= 96, pool(forWork: Double(m) * Double(n) * Double(k)) == nil {
            gemm_f32_packed16_small_simd8(x: x, lda: k, weights: packed, bias: bias, y: y, ldy: n, m: m, n: n, k: k,
                                          activation: .identity)
        } else {
            linear(x: x, packed: packed, bias: bias, y: y, m: m, n: n, k: k, activation: .identity)
        }
    }
}


/// One step's pointwise cell math over the batch rows (RecurrentCells.swift), in `threads` parts
/// by rows (part `i` of `t`: rows `[batch·i/t, batch·(i+1)/t)`). Each row's math is the same
/// whatever the split, so the thread count never changes a bit.
struct RecurrentCellsJob {
    /// The pointwise kernel: an RNN cell, the first half of a GRU with linear_before_reset 0
    /// (`r ⊙ H` into `rh`), a GRU state update (reading `hh` when set), an LSTM cell.
    enum Cell { case rnn(Activation), gruReset, gru, lstm }
    var cell: Cell
    let xg: UnsafeMutablePointer<Float>, hr: UnsafeMutablePointer<Float>
    var hh: UnsafeMutablePointer<Float>?, rh: UnsafeMutablePointer<Float>?
    let h: UnsafeMutablePointer<Float>, c: UnsafeMutablePointer<Float>?, y: UnsafeMutablePointer<Float>
    let batch: Int, steps: Int, step: Int, gh: Int, sc: Int, hidden: Int
    var threads: Int

    static let execute: ThreadPool.JobFunction = { context, part, _ in
        context.assumingMemoryBound(to: RecurrentCellsJob.self).pointee.run(part)
    }

    /// Computes rows `[batch·part/threads, batch·(part+1)/threads)`.
    func run(_ part: Int) {
        for n in batch * part / threads ..< batch * (part + 1) / threads {
            let g = xg + (n * steps + step) * gh, r = hr + n * sc, out = y + (n * steps + step) * hidden
            switch cell {
            case .rnn(let activation):
                rnn_cell_f32_simd8(xg: g, hr: r, h: h + n * hidden, y: out, hidden: hidden, activation: activation)
            case .gruReset:
                gru_reset_f32_simd8(xg: g, hr: r, h: h + n * hidden, rh: rh! + n * hidden, hidden: hidden)
            case .gru:
                gru_cell_f32_simd8(xg: g, hr: r, hh: hh.map { UnsafePointer($0 + n * hidden) }, h: h + n * hidden, y: out,
                                   hidden: hidden)
            case .lstm:
                lstm_cell_f32_simd8(xg: g, hr: r, h: h + n * hidden, c: c! + n * hidden, y: out, hidden: hidden)
            }
        }
    }
}

extension Session {
    /// Runs a step's cells, split by batch rows between the pool's threads when the batch has
    /// more than one row and the work is large enough (`pool(forWork:)`), else on this thread.
    @inline(__always)
    func runCells(_ job: inout RecurrentCellsJob) {
        if job.batch > 1, let pool = pool(forWork: Double(job.batch) * Double(job.hidden) * 256) {
            job.threads = pool.threads
            withUnsafePointer(to: &job) { pool.run(context: UnsafeRawPointer($0), RecurrentCellsJob.execute) }
        } else {
            job.threads = 1
            job.run(0)
        }
    }
}
