import StrataCore
import StrataEngine

/// `strata_session_run_multi`: one buffer per graph input and per graph output, in graph order.
/// Checks every pointer and count (naming the input or output) before the run writes anything;
/// builds no array, so a run still allocates nothing.
@_cdecl("strata_session_run_multi")
public func strata_session_run_multi(_ session: OpaquePointer?, _ batch: Int64,
                                     _ inputs: UnsafePointer<UnsafePointer<Float>?>?, _ inputCounts: UnsafePointer<Int>?,
                                     _ nInputs: Int,
                                     _ outputs: UnsafePointer<UnsafeMutablePointer<Float>?>?, _ outputCounts: UnsafePointer<Int>?,
                                     _ nOutputs: Int) -> Int32 {
    withSessionInUse(session, in: "strata_session_run_multi") { (h) throws(StrataError) in
        let f = "strata_session_run_multi"
        let s = h.session
        let inputs = try require(inputs, "inputs", in: f)
        let inputCounts = try require(inputCounts, "input_counts", in: f)
        let outputs = try require(outputs, "outputs", in: f)
        let outputCounts = try require(outputCounts, "output_counts", in: f)
        let model = s.model
        guard count(nInputs) == UInt(model.inputs.count), count(nOutputs) == UInt(model.outputs.count) else {
            throw StrataError(.invalidArgument, "\(f): n_inputs is \(count(nInputs)) and n_outputs \(count(nOutputs)); the model has \(model.inputs.count) input(s) and \(model.outputs.count) output(s)")
        }
        guard batch >= 1 else { throw StrataError(.invalidArgument, "\(f): batch is \(batch); it must be at least 1") }
        guard batch <= Int64(Int32.max) else { throw StrataError(.invalidArgument, "\(f): batch \(batch) is too large (at most 2^31-1)") }
        for (i, info) in model.inputs.enumerated() {
            guard inputs[i] != nil else { throw StrataError(.nullPointer, "\(f): inputs[\(i)] ('\(info.name)') is NULL") }
            guard let need = checkedMul(Int(batch), info.sampleCount) else {
                throw StrataError(.invalidArgument, "\(f): batch \(batch) is too large: buffer sizes overflow")
            }
            guard count(inputCounts[i]) == UInt(need) else {
                throw StrataError(.shapeMismatch, "\(f): input_counts[\(i)] is \(count(inputCounts[i])) but input '\(info.name)' \(describeShape(info.dims)) at batch \(batch) needs \(need) floats (\(info.sampleCount) per sample)")
            }
        }
        for (i, info) in model.outputs.enumerated() {
            guard outputs[i] != nil else { throw StrataError(.nullPointer, "\(f): outputs[\(i)] ('\(info.name)') is NULL") }
            guard let need = checkedMul(Int(batch), info.sampleCount) else {
                throw StrataError(.invalidArgument, "\(f): batch \(batch) is too large: buffer sizes overflow")
            }
            guard count(outputCounts[i]) >= UInt(need) else {
                throw StrataError(.bufferTooSmall, "\(f): output_counts[\(i)] is \(count(outputCounts[i])) but output '\(info.name)' \(describeShape(info.dims)) at batch \(batch) needs \(need) floats (\(info.sampleCount) per sample)")
            }
        }
        // Every element was checked non-NULL, and Optional<pointer> has the pointer's layout.
        let ins = UnsafeRawPointer(inputs).assumingMemoryBound(to: UnsafePointer<Float>.self)
        let outs = UnsafeRawPointer(outputs).assumingMemoryBound(to: UnsafeMutablePointer<Float>.self)
        try s.run(batch: Int(batch), inputs: UnsafeBufferPointer(start: ins, count: model.inputs.count),
                  outputs: UnsafeBufferPointer(start: outs, count: model.outputs.count))
    }
}
