import StrataCore

extension Session {
    /// Runs the model on `batch` samples with one buffer per graph input and output, in order.
    ///
    /// A batch larger than `maxChunk` (a session with a memory limit or a caller's workspace) runs
    /// in chunks of `maxChunk` samples, one pass of the plan each. A sample's result does not
    /// depend on the batch it is computed in or its position there (the kernels are batch-position
    /// deterministic), so chunked outputs are bitwise identical to unchunked ones.
    /// - Throws: `invalidArgument` (batch < 1 or too large, wrong buffer counts), `outOfMemory`,
    ///   `cancelled` (the `shouldAbort` callback returned true; the outputs are then partial).
    ///   A stateful session (`setStateful`) carries recurrent state from run to run; a run that
    ///   throws leaves the held state as it was.
    public func run(batch: Int, inputs: UnsafeBufferPointer<UnsafePointer<Float>>,
                    outputs: UnsafeBufferPointer<UnsafeMutablePointer<Float>>) throws(StrataError) {
        if model.plan.hasBatchAxisBoundary, batch >= 1, inputs.count == model.plan.inputSampleCounts.count,
           outputs.count == model.plan.outputSampleCounts.count {
            return try runReordering(batch: batch, inputs: inputs, outputs: outputs)
        }
        try runSampleMajor(batch: batch, inputs: inputs, outputs: outputs)
    }

    /// `run` on buffers that hold sample after sample (every batch in dim 0).
    func runSampleMajor(batch: Int, inputs: UnsafeBufferPointer<UnsafePointer<Float>>,
                        outputs: UnsafeBufferPointer<UnsafeMutablePointer<Float>>) throws(StrataError) {
        let plan = model.plan
        guard batch >= 1 else { throw StrataError(.invalidArgument, "batch is \(batch); it must be at least 1") }
        guard inputs.count == plan.inputSampleCounts.count, outputs.count == plan.outputSampleCounts.count else {
            throw StrataError(.invalidArgument, "expected \(plan.inputSampleCounts.count) input and \(plan.outputSampleCounts.count) output buffers, got \(inputs.count) and \(outputs.count)")
        }
        for counts in [plan.inputSampleCounts, plan.outputSampleCounts] {
            for count in counts where checkedMul(count, batch) == nil {
                throw StrataError(.invalidArgument, "batch \(batch) is too large: \(count) values per sample overflow")
            }
        }
        let chunk = min(batch, memory.maxChunk)
        try reserve(batch: chunk)
        try prepareState(batch: batch)
        recurrentState.rowOffset = 0
        let savedFP = FloatingPointMode.enterRun()
        defer { FloatingPointMode.leaveRun(savedFP) }
        if chunk == batch {
            try runSteps(batch: batch, inputs: inputs, outputs: outputs)
        } else {
            try runChunks(batch: batch, chunk: chunk, inputs: inputs, outputs: outputs)
        }
        commitState(batch: batch)
        if profile != nil { profile!.runs += 1 }
    }

    /// `batch` samples in passes of at most `chunk`, with the buffers advanced past the samples
    /// done. The shifted pointers live in stack scratch (`withUnsafeTemporaryAllocation`): no allocation.
    private func runChunks(batch: Int, chunk: Int, inputs: UnsafeBufferPointer<UnsafePointer<Float>>,
                           outputs: UnsafeBufferPointer<UnsafeMutablePointer<Float>>) throws(StrataError) {
        let plan = model.plan
        try withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: inputs.count) { ins throws(StrataError) in
            try withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<Float>.self, capacity: outputs.count) { outs throws(StrataError) in
                var start = 0
                while start < batch {
                    let rows = min(chunk, batch - start)
                    for k in 0..<inputs.count { ins.initializeElement(at: k, to: inputs[k] + start * plan.inputSampleCounts[k]) }
                    for k in 0..<outputs.count { outs.initializeElement(at: k, to: outputs[k] + start * plan.outputSampleCounts[k]) }
                    recurrentState.rowOffset = start
                    try runSteps(batch: rows, inputs: UnsafeBufferPointer(ins), outputs: UnsafeBufferPointer(outs))
                    start += rows
                }
            }
        }
    }

    /// The error a run stopped by `shouldAbort` throws.
    func cancelled(beforeStep index: Int) -> StrataError {
        StrataError(.cancelled, "the abort callback stopped the run before step \(index + 1) of \(model.plan.steps.count); the outputs are incomplete and the session can run again")
    }
}
