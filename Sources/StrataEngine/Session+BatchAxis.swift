import StrataCore

// Graph inputs and outputs whose batch is not dim 0 (format 1.5, docs/FORMAT.md "Batch
// dimension"), e.g. a recurrent state `[layers, -1, hidden]` as PyTorch and ONNX hold it. The plan
// works sample after sample; the session copies such an input into a sample-major buffer before
// the run and such an output back after it. A dim 0 batch (or only 1s before the batch) needs no copy.

extension Plan {
    /// Whether some graph input or output needs reordering at the run's boundary.
    var hasBatchAxisBoundary: Bool {
        inputOuterCounts.contains { $0 > 1 } || outputOuterCounts.contains { $0 > 1 }
    }
}

extension Session {
    /// `run` for a model with inputs or outputs whose batch is not dim 0: reorders them through
    /// the session's boundary buffer (grown to the largest batch, then reused).
    func runReordering(batch: Int, inputs: UnsafeBufferPointer<UnsafePointer<Float>>,
                       outputs: UnsafeBufferPointer<UnsafeMutablePointer<Float>>) throws(StrataError) {
        let plan = model.plan
        var perRow = 0
        for (k, outer) in plan.inputOuterCounts.enumerated() where outer > 1 { perRow += plan.inputSampleCounts[k] }
        for (k, outer) in plan.outputOuterCounts.enumerated() where outer > 1 { perRow += plan.outputSampleCounts[k] }
        if batch > boundaryRows {
            guard let floats = checkedMul(batch, perRow), let bytes = checkedMul(floats, 4) else {
                throw StrataError(.invalidArgument, "batch \(batch) is too large: its reordered inputs and outputs overflow")
            }
            guard let p = allocateAligned(bytes: bytes) else {
                throw StrataError(.outOfMemory, "cannot allocate \(bytes) bytes to reorder the inputs and outputs of batch \(batch)")
            }
            freeAligned(boundary)
            boundary = p.bindMemory(to: Float.self, capacity: floats)
            boundaryRows = batch
        }
        guard let base = boundary else { return try runSampleMajor(batch: batch, inputs: inputs, outputs: outputs) }
        try withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: inputs.count) { ins throws(StrataError) in
            try withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<Float>.self, capacity: outputs.count) { outs throws(StrataError) in
                var next = base
                for k in 0..<inputs.count {
                    let outer = plan.inputOuterCounts[k]
                    if outer > 1 {
                        Session.gatherSampleMajor(from: inputs[k], to: next, batch: batch, outer: outer,
                                                  inner: plan.inputSampleCounts[k] / outer)
                        ins.initializeElement(at: k, to: UnsafePointer(next))
                        next += batch * plan.inputSampleCounts[k]
                    } else {
                        ins.initializeElement(at: k, to: inputs[k])
                    }
                }
                for k in 0..<outputs.count {
                    if plan.outputOuterCounts[k] > 1 {
                        outs.initializeElement(at: k, to: next)
                        next += batch * plan.outputSampleCounts[k]
                    } else {
                        outs.initializeElement(at: k, to: outputs[k])
                    }
                }
                try runSampleMajor(batch: batch, inputs: UnsafeBufferPointer(ins), outputs: UnsafeBufferPointer(outs))
                for k in 0..<outputs.count {
                    let outer = plan.outputOuterCounts[k]
                    guard outer > 1 else { continue }
                    Session.scatterSampleMajor(from: UnsafePointer(outs[k]), to: outputs[k], batch: batch, outer: outer,
                                               inner: plan.outputSampleCounts[k] / outer)
                }
            }
        }
    }

    /// `[outer, batch, inner]` → `[batch, outer, inner]`.
    static func gatherSampleMajor(from src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>,
                                  batch: Int, outer: Int, inner: Int) {
        for o in 0..<outer {
            for n in 0..<batch {
                (dst + (n * outer + o) * inner).update(from: src + (o * batch + n) * inner, count: inner)
            }
        }
    }

    /// `[batch, outer, inner]` → `[outer, batch, inner]`.
    static func scatterSampleMajor(from src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>,
                                   batch: Int, outer: Int, inner: Int) {
        for o in 0..<outer {
            for n in 0..<batch {
                (dst + (o * batch + n) * inner).update(from: src + (n * outer + o) * inner, count: inner)
            }
        }
    }
}
