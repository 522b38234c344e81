import StrataCore
import StrataEngine

/// Runs a ``Model``: holds the scratch buffers (and worker threads) of its runs. One thread at a
/// time per session (it is not `Sendable`); make one session per thread. Sessions keep their
/// model alive.
///
/// The simple `run` takes and returns `[Float]` for models with one input and one output; the
/// buffer-pointer `run` writes into the caller's memory without allocating. Samples are laid out
/// one after another, each `sampleCount` values in row-major order.
public final class Session {
    /// The model this session runs.
    public let model: Model
    let engine: StrataEngine.Session

    init(model: Model, threads: Int, initialBatch: Int) throws(StrataError) {
        self.model = model
        engine = try StrataEngine.Session(model: model.engine, initialBatch: initialBatch, threads: threads)
    }

    /// Worker threads of each run.
    public var threads: Int { engine.threads }

    /// Runs the samples in `input` (a whole number of samples of the model's one input) and
    /// returns the outputs, `batch × outputs[0].sampleCount` values. An empty input gives an
    /// empty result.
    /// - Throws: `.shapeMismatch` when `input.count` is not a multiple of the input's sample
    ///   size; `.unsupported` for a model with several inputs or outputs (use
    ///   ``run(inputs:)``); `.invalidArgument` for non-finite inputs the model refuses.
    public func run(_ input: [Float]) throws(StrataError) -> [Float] {
        let (batch, out) = try shapes(input.count)
        var output = [Float](repeating: 0, count: batch * out)
        if batch == 0 { return output }
        try input.withUnsafeBufferPointer { (x: UnsafeBufferPointer<Float>) throws(StrataError) in
            try output.withUnsafeMutableBufferPointer { (y: inout UnsafeMutableBufferPointer<Float>) throws(StrataError) in
                try engine.run(batch: batch, input: x.baseAddress!, output: y.baseAddress!)
            }
        }
        return output
    }

    /// Runs the samples in `input` into `output` without allocating; returns the batch.
    /// - Throws: `.shapeMismatch` when `input.count` is not a whole number of samples or
    ///   `output.count` is not the matching number of output values.
    public func run(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) throws(StrataError) -> Int {
        let (batch, out) = try shapes(input.count)
        guard output.count == batch * out else {
            throw StrataError(.shapeMismatch, "output has room for \(output.count) values; \(batch) samples give \(batch * out) (\(out) per sample of \(model.outputs[0]))")
        }
        if batch > 0 { try engine.run(batch: batch, input: input.baseAddress!, output: output.baseAddress!) }
        return batch
    }

    /// Runs a model with any number of inputs and outputs: one array per graph input, in order,
    /// all with the same batch. Returns one array per graph output, in order.
    /// - Throws: `.invalidArgument` for the wrong number of arrays, `.shapeMismatch` for sizes
    ///   that are not whole samples of the same batch.
    public func run(inputs: [[Float]]) throws(StrataError) -> [[Float]] {
        let ins = model.inputs, outs = model.outputs
        guard inputs.count == ins.count else {
            throw StrataError(.invalidArgument, "the model has \(ins.count) inputs; got \(inputs.count) arrays")
        }
        var batch = -1
        for (array, info) in zip(inputs, ins) {
            guard info.sampleCount > 0, array.count % info.sampleCount == 0,
                  batch < 0 || array.count / info.sampleCount == batch else {
                throw StrataError(.shapeMismatch, "input \(info) got \(array.count) values: not the same whole number of samples as the other inputs")
            }
            batch = array.count / info.sampleCount
        }
        var results = outs.map { [Float](repeating: 0, count: max(batch, 0) * $0.sampleCount) }
        if batch <= 0 { return results }
        try withPointers(inputs, &results) { (x: UnsafeBufferPointer<UnsafePointer<Float>>, y: UnsafeBufferPointer<UnsafeMutablePointer<Float>>) throws(StrataError) in
            try engine.run(batch: batch, inputs: x, outputs: y)
        }
        return results
    }

    /// The batch and per-sample output size for `count` input values of a one-input, one-output model.
    private func shapes(_ count: Int) throws(StrataError) -> (batch: Int, outPerSample: Int) {
        guard model.inputs.count == 1, model.outputs.count == 1 else {
            throw StrataError(.unsupported, "this model has \(model.inputs.count) inputs and \(model.outputs.count) outputs; use run(inputs:)")
        }
        let per = model.inputs[0].sampleCount
        guard per > 0, count % per == 0 else {
            throw StrataError(.shapeMismatch, "input has \(count) values; expected a whole number of samples of \(per) (\(model.inputs[0]))")
        }
        return (count / per, model.outputs[0].sampleCount)
    }
}

/// Calls `body` with stable base pointers of every array in `inputs` and `outputs`.
private func withPointers(_ inputs: [[Float]], _ outputs: inout [[Float]],
                          _ body: (UnsafeBufferPointer<UnsafePointer<Float>>, UnsafeBufferPointer<UnsafeMutablePointer<Float>>) throws(StrataError) -> Void) throws(StrataError) {
    // Contiguous copies keep one allocation per array alive for the call.
    let inCount = inputs.reduce(0) { $0 + $1.count }, outCount = outputs.reduce(0) { $0 + $1.count }
    var flatIn = [Float](), flatOut = [Float](repeating: 0, count: outCount)
    flatIn.reserveCapacity(inCount)
    for a in inputs { flatIn += a }
    try flatIn.withUnsafeBufferPointer { (x: UnsafeBufferPointer<Float>) throws(StrataError) in
        try flatOut.withUnsafeMutableBufferPointer { (y: inout UnsafeMutableBufferPointer<Float>) throws(StrataError) in
            var inPointers: [UnsafePointer<Float>] = [], outPointers: [UnsafeMutablePointer<Float>] = []
            var offset = 0
            for a in inputs { inPointers.append(x.baseAddress! + offset); offset += a.count }
            offset = 0
            for a in outputs { outPointers.append(y.baseAddress! + offset); offset += a.count }
            try inPointers.withUnsafeBufferPointer { (ip: UnsafeBufferPointer<UnsafePointer<Float>>) throws(StrataError) in
                try outPointers.withUnsafeBufferPointer { (op: UnsafeBufferPointer<UnsafeMutablePointer<Float>>) throws(StrataError) in
                    try body(ip, op)
                }
            }
        }
    }
    var offset = 0
    for k in outputs.indices {
        outputs[k] = Array(flatOut[offset..<(offset + outputs[k].count)])
        offset += outputs[k].count
    }
}
