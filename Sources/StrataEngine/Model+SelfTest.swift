import StrataCore
import StrataFormat

/// The outcome of running a model's embedded self-test (`Model.selfTest()`).
public struct SelfTestResult: Sendable, Equatable {
    /// Reference samples run.
    public var sampleCount: Int
    /// Output elements compared.
    public var elementCount: Int
    /// Largest `|strata - reference|` over every output element.
    public var maxAbsoluteError: Double
    /// Largest `|strata - reference| / (atol + rtol·|reference|)`; at most 1 when every element
    /// is within tolerance (infinite when a tolerance of 0 is exceeded).
    public var maxErrorRatio: Double
    /// Whether every output element is within the file's tolerance.
    public var passed: Bool
}

extension Model {
    /// Runs the reference inputs stored in the file's SELFTEST section through this model (one
    /// batch of all samples, on a fresh session) and compares with the stored reference outputs.
    ///
    /// - Returns: the comparison; `passed` is false when any element exceeds the tolerance.
    /// - Throws: `unsupported` when the file has no SELFTEST section; `outOfMemory` when the
    ///   session's buffers cannot be allocated.
    public func selfTest() throws(StrataError) -> SelfTestResult {
        guard let data = file.selfTest else {
            throw StrataError(.unsupported, "the model has no self-test data (no SELFTEST section); convert it with `--self-test N` to embed reference samples")
        }
        let batch = data.sampleCount
        let session = try Session(model: self, initialBatch: batch)
        let inputs = data.inputs.map { v -> UnsafeMutablePointer<Float> in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(v.count, 1))
            p.initialize(from: v, count: v.count)
            return p
        }
        let outputs = data.outputs.map { UnsafeMutablePointer<Float>.allocate(capacity: max($0.count, 1)) }
        defer { (inputs + outputs).forEach { $0.deallocate() } }
        try inputs.map { UnsafePointer($0) }.withUnsafeBufferPointer { ib throws(StrataError) in
            try outputs.withUnsafeBufferPointer { ob throws(StrataError) in try session.run(batch: batch, inputs: ib, outputs: ob) }
        }
        var maxAbs = 0.0, maxRatio = 0.0, count = 0, passed = true
        for (k, expected) in data.outputs.enumerated() {
            for (i, e) in expected.enumerated() {
                let a = outputs[k][i]
                let err = abs(Double(a) - Double(e))
                let allowed = Double(data.absoluteTolerance) + Double(data.relativeTolerance) * abs(Double(e))
                let ratio = err == 0 ? 0 : (allowed > 0 ? err / allowed : .infinity)
                if !data.accepts(a, expected: e) { passed = false }
                maxAbs = err.isNaN ? .infinity : max(maxAbs, err)
                maxRatio = ratio.isNaN ? .infinity : max(maxRatio, ratio)
                count += 1
            }
        }
        return SelfTestResult(sampleCount: batch, elementCount: count, maxAbsoluteError: maxAbs,
                              maxErrorRatio: maxRatio, passed: passed)
    }
}
