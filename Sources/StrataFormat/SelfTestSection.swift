import StrataCore

/// The SELFTEST section (kind 5, optional, since format 1.1): a few reference inputs and the
/// outputs the source framework computed for them, with the tolerance a run must meet.
///
/// Layout (docs/FORMAT.md, "SELFTEST section"): `u32 n_samples` (1…1024), `u32 n_inputs`,
/// `u32 n_outputs` (equal to the graph's), `u32 reserved` (0), `f32 atol`, `f32 rtol` (finite,
/// ≥ 0), then per graph input and then per graph output, in graph order, `n_samples ×
/// elements-per-sample` f32 values, all finite. The section ends exactly after the last value.
package struct SelfTestData: Sendable, Equatable {
    /// Number of reference samples (the batch the self-test runs).
    package var sampleCount: Int
    /// Allowed absolute error per element.
    package var absoluteTolerance: Float
    /// Allowed error relative to the reference value, added to `absoluteTolerance`.
    package var relativeTolerance: Float
    /// Reference inputs, one array per graph input: `sampleCount × sampleCount(input)` values.
    package var inputs: [[Float]]
    /// Reference outputs, one array per graph output: `sampleCount × sampleCount(output)` values.
    package var outputs: [[Float]]

    /// Creates self-test data; `inputs` and `outputs` follow the graph's order.
    package init(sampleCount: Int, absoluteTolerance: Float, relativeTolerance: Float,
                inputs: [[Float]], outputs: [[Float]]) {
        self.sampleCount = sampleCount
        self.absoluteTolerance = absoluteTolerance
        self.relativeTolerance = relativeTolerance
        self.inputs = inputs
        self.outputs = outputs
    }

    /// Whether `actual` is close enough to `expected`: `|actual - expected| ≤ atol + rtol·|expected|`.
    package func accepts(_ actual: Float, expected: Float) -> Bool {
        abs(Double(actual) - Double(expected)) <= Double(absoluteTolerance) + Double(relativeTolerance) * abs(Double(expected))
    }

    /// Most samples a SELFTEST section may hold.
    package static let maxSamples = 1024

    /// Parses and validates a SELFTEST section body against the graph's inputs and outputs.
    /// - Throws: `malformed` naming the field for any rule of docs/FORMAT.md it breaks.
    static func read(_ body: UnsafeRawBufferPointer, inputs: [ValueInfo], outputs: [ValueInfo]) throws(StrataError) -> SelfTestData {
        var r = ByteReader(body, context: "SELFTEST")
        let n = try r.count("sample count", max: maxSamples)
        guard n >= 1 else { throw StrataError(.malformed, "section SELFTEST has 0 samples; it needs at least 1") }
        let nIn = try r.u32("input count"), nOut = try r.u32("output count")
        guard nIn == UInt32(inputs.count), nOut == UInt32(outputs.count) else {
            throw StrataError(.malformed, "section SELFTEST has \(nIn) inputs and \(nOut) outputs; the graph has \(inputs.count) and \(outputs.count)")
        }
        guard try r.u32("reserved field") == 0 else { throw StrataError(.malformed, "section SELFTEST reserved field is not zero") }
        let atol = try r.f32("absolute tolerance"), rtol = try r.f32("relative tolerance")
        for (name, t) in [("absolute", atol), ("relative", rtol)] where !(t.isFinite && t >= 0) {
            throw StrataError(.malformed, "section SELFTEST \(name) tolerance is \(t); it must be finite and ≥ 0")
        }
        func values(_ info: ValueInfo, _ what: String) throws(StrataError) -> [Float] {
            guard let count = checkedMul(info.sampleCount, n), let bytes = checkedMul(count, 4), bytes <= r.remaining else {
                throw StrataError(.malformed, "section SELFTEST ends inside the values of \(what) '\(info.name)' (\(n) samples of \(describeShape(info.dims)), \(r.remaining) bytes left)")
            }
            var v = [Float](repeating: 0, count: count)
            for i in 0..<count {
                let x = try r.f32("value \(i) of \(what) '\(info.name)'")
                guard x.isFinite else {
                    throw StrataError(.malformed, "section SELFTEST value \(i) of \(what) '\(info.name)' is \(x); reference values must be finite")
                }
                v[i] = x
            }
            return v
        }
        let ins = try inputs.map { info throws(StrataError) in try values(info, "input") }
        let outs = try outputs.map { info throws(StrataError) in try values(info, "output") }
        try r.expectEnd()
        return SelfTestData(sampleCount: n, absoluteTolerance: atol, relativeTolerance: rtol, inputs: ins, outputs: outs)
    }

    /// The section body, as `read` parses it.
    package func serialized() -> [UInt8] {
        var w = ByteWriter()
        w.u32(UInt32(sampleCount)); w.u32(UInt32(inputs.count)); w.u32(UInt32(outputs.count)); w.u32(0)
        w.u32(absoluteTolerance.bitPattern); w.u32(relativeTolerance.bitPattern)
        for v in inputs + outputs { for x in v { w.u32(x.bitPattern) } }
        return w.bytes
    }
}
