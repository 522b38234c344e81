import CStrataABI
import StrataCore
import StrataEngine

// The exported C functions of include/strata.h. Each one checks its arguments, calls the Swift
// API, and maps errors to a status plus strata_last_error(); nothing here may trap.

/// `strata_version`: the library version, "MAJOR.MINOR.PATCH".
@_cdecl("strata_version")
public func strata_version() -> UnsafePointer<CChar> {
    UnsafeRawPointer(StrataVersion.string.utf8Start).assumingMemoryBound(to: CChar.self)
}

/// `strata_abi_version`: the ABI version (STRATA_ABI_VERSION).
@_cdecl("strata_abi_version")
public func strata_abi_version() -> Int32 { 1 }

/// `strata_status_string`: a short static description of a status.
@_cdecl("strata_status_string")
public func strata_status_string(_ status: Int32) -> UnsafePointer<CChar> {
    UnsafeRawPointer(Status(rawValue: status).summary.utf8Start).assumingMemoryBound(to: CChar.self)
}

/// `strata_last_error`: the calling thread's last failure message, or "".
@_cdecl("strataimpl_last_error")  // exported by the CPU gate in CStrataABI/abi.c
public func strata_last_error() -> UnsafePointer<CChar> { LastError.get() }

// MARK: models

/// A C `size_t` arrives as `Int`; values above `Int.max` are read back as the unsigned count.
@inline(__always) func count(_ n: Int) -> UInt { UInt(bitPattern: n) }

/// The body of `strata_model_load_file` and `…_with_params`: checks the arguments (out_model,
/// path, then `options`), maps, validates and plans the file, and hands the caller a handle.
/// Messages name the path.
func loadFile(_ path: UnsafePointer<CChar>?, _ outModel: UnsafeMutablePointer<OpaquePointer?>?, in f: String,
              options: () throws(StrataError) -> LoadOptions) -> Int32 {
    outModel?.pointee = nil
    return guarded { () throws(StrataError) in
        let out = try require(outModel, "out_model", in: f)
        let cPath = try require(path, "path", in: f)
        let options = try options()
        let path = String(cString: cPath)
        do throws(StrataError) {
            try publish(try Model(cPath: cPath, options: options), out)
        } catch var e {
            if !mentions(e.message, path) { e.message = "'\(path)': " + e.message }
            throw e
        }
    }
}

/// The body of `strata_model_load_memory` and `…_with_params`: checks the arguments (out_model,
/// data, size, then `options`), copies, validates and plans the image.
func loadMemory(_ data: UnsafeRawPointer?, _ size: Int, _ outModel: UnsafeMutablePointer<OpaquePointer?>?, in f: String,
                options: () throws(StrataError) -> LoadOptions) -> Int32 {
    outModel?.pointee = nil
    return guarded { () throws(StrataError) in
        let out = try require(outModel, "out_model", in: f)
        let data = try require(data, "data", in: f)
        guard size >= 0 else {
            throw StrataError(.invalidArgument, "\(f): size \(count(size)) is larger than any memory block can be")
        }
        let options = try options()
        try publish(try Model(copying: UnsafeRawBufferPointer(start: data, count: size), options: options), out)
    }
}

private func publish(_ model: Model, _ out: UnsafeMutablePointer<OpaquePointer?>) throws(StrataError) {
    out.pointee = OpaquePointer(Unmanaged.passRetained(try ModelHandle(model: model)).toOpaque())
}

/// `strata_model_load_file`: maps and validates a file.
@_cdecl("strataimpl_model_load_file")  // exported by the CPU gate in CStrataABI/abi.c
public func strata_model_load_file(_ path: UnsafePointer<CChar>?, _ outModel: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    loadFile(path, outModel, in: "strata_model_load_file") { LoadOptions() }
}

/// `strata_model_load_memory`: copies and validates an in-memory image.
@_cdecl("strataimpl_model_load_memory")  // exported by the CPU gate in CStrataABI/abi.c
public func strata_model_load_memory(_ data: UnsafeRawPointer?, _ size: Int, _ outModel: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    loadMemory(data, size, outModel, in: "strata_model_load_memory") { LoadOptions() }
}

/// `strata_model_free`: releases the caller's reference (NULL is a no-op).
@_cdecl("strata_model_free")
public func strata_model_free(_ model: OpaquePointer?) {
    guard let model else { return }
    Unmanaged<ModelHandle>.fromOpaque(UnsafeRawPointer(model)).release()
}

/// `strata_model_n_inputs`.
@_cdecl("strata_model_n_inputs")
public func strata_model_n_inputs(_ model: OpaquePointer?) -> Int32 {
    guard let model else { LastError.set("strata_model_n_inputs: argument 'model' is NULL"); return Status.nullPointer.rawValue }
    return Int32(ModelHandle.from(model).model.inputs.count)
}

/// `strata_model_n_outputs`.
@_cdecl("strata_model_n_outputs")
public func strata_model_n_outputs(_ model: OpaquePointer?) -> Int32 {
    guard let model else { LastError.set("strata_model_n_outputs: argument 'model' is NULL"); return Status.nullPointer.rawValue }
    return Int32(ModelHandle.from(model).model.outputs.count)
}

private func name(_ model: OpaquePointer?, _ index: Int32, output: Bool, _ function: String) -> UnsafePointer<CChar>? {
    var result: UnsafePointer<CChar>? = nil
    _ = guarded { () throws(StrataError) in
        let h = ModelHandle.from(try require(model, "model", in: function))
        let names = output ? h.outputNames : h.inputNames
        guard index >= 0, Int(index) < names.count else {
            throw StrataError(.invalidArgument, "\(function): index \(index) is out of range; the model has \(names.count) \(output ? "outputs" : "inputs")")
        }
        result = UnsafePointer(names[Int(index)])
    }
    return result
}

/// `strata_model_input_name`.
@_cdecl("strata_model_input_name")
public func strata_model_input_name(_ model: OpaquePointer?, _ index: Int32) -> UnsafePointer<CChar>? {
    name(model, index, output: false, "strata_model_input_name")
}

/// `strata_model_output_name`.
@_cdecl("strata_model_output_name")
public func strata_model_output_name(_ model: OpaquePointer?, _ index: Int32) -> UnsafePointer<CChar>? {
    name(model, index, output: true, "strata_model_output_name")
}

private func shape(_ model: OpaquePointer?, _ index: Int32, _ outDims: UnsafeMutablePointer<Int64>?, _ capacity: Int,
                   _ outRank: UnsafeMutablePointer<Int>?, output: Bool, _ function: String) -> Int32 {
    guarded { () throws(StrataError) in
        let h = ModelHandle.from(try require(model, "model", in: function))
        let rankOut = try require(outRank, "out_rank", in: function)
        if capacity > 0 { _ = try require(outDims, "out_dims", in: function) }
        let infos = output ? h.model.outputs : h.model.inputs
        guard index >= 0, Int(index) < infos.count else {
            throw StrataError(.invalidArgument, "\(function): index \(index) is out of range; the model has \(infos.count) \(output ? "outputs" : "inputs")")
        }
        let dims = infos[Int(index)].dims
        rankOut.pointee = dims.count
        guard count(capacity) >= UInt(dims.count) else {
            throw StrataError(.bufferTooSmall, "\(function): out_dims holds \(count(capacity)) dimensions but '\(infos[Int(index)].name)' has rank \(dims.count)")
        }
        for (i, d) in dims.enumerated() { outDims![i] = Int64(d) }
    }
}

/// `strata_model_input_shape`.
@_cdecl("strata_model_input_shape")
public func strata_model_input_shape(_ model: OpaquePointer?, _ index: Int32, _ outDims: UnsafeMutablePointer<Int64>?,
                                     _ capacity: Int, _ outRank: UnsafeMutablePointer<Int>?) -> Int32 {
    shape(model, index, outDims, capacity, outRank, output: false, "strata_model_input_shape")
}

/// `strata_model_output_shape`.
@_cdecl("strata_model_output_shape")
public func strata_model_output_shape(_ model: OpaquePointer?, _ index: Int32, _ outDims: UnsafeMutablePointer<Int64>?,
                                      _ capacity: Int, _ outRank: UnsafeMutablePointer<Int>?) -> Int32 {
    shape(model, index, outDims, capacity, outRank, output: true, "strata_model_output_shape")
}

/// `strata_model_metadata`: the value for a key, or NULL.
@_cdecl("strata_model_metadata")
public func strata_model_metadata(_ model: OpaquePointer?, _ key: UnsafePointer<CChar>?) -> UnsafePointer<CChar>? {
    guard let model, let key else {
        LastError.set("strata_model_metadata: argument '\(model == nil ? "model" : "key")' is NULL")
        return nil
    }
    let k = String(cString: key)
    return ModelHandle.from(model).metadata.first { $0.key == k }.map { UnsafePointer($0.value) }
}

// MARK: sessions

/// `strata_session_default_params`.
@_cdecl("strata_session_default_params")
public func strata_session_default_params() -> strata_session_params {
    strata_session_params(size: MemoryLayout<strata_session_params>.size, initial_batch: 1, n_threads: 1,
                          memory_limit: 0, workspace: nil, workspace_size: 0, abort_callback: nil, abort_user_data: nil)
}

/// `strata_session_create`.
@_cdecl("strata_session_create")
public func strata_session_create(_ model: OpaquePointer?, _ params: UnsafePointer<strata_session_params>?,
                                  _ outSession: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    outSession?.pointee = nil
    return guarded { () throws(StrataError) in
        let f = "strata_session_create"
        let out = try require(outSession, "out_session", in: f)
        let h = ModelHandle.from(try require(model, "model", in: f))
        let p = try readSessionParams(params, in: f)
        guard p.initial_batch >= 1 else { throw StrataError(.invalidArgument, "\(f): params->initial_batch is \(p.initial_batch); it must be at least 1") }
        let session = try Session(model: h.model, initialBatch: Int(p.initial_batch), threads: max(1, Int(p.n_threads)),
                                  budget: try memoryBudget(p, in: f))
        if let callback = p.abort_callback {
            let userData = p.abort_user_data
            session.shouldAbort = { callback(userData) != 0 }
        }
        out.pointee = OpaquePointer(Unmanaged.passRetained(try SessionHandle(modelHandle: h, session: session)).toOpaque())
    }
}

// strata_session_free: SessionInUse.swift (a free racing a call is released when the call returns).

/// `strata_session_run`: one input, one output, `batch` samples.
@_cdecl("strata_session_run")
public func strata_session_run(_ session: OpaquePointer?, _ batch: Int64, _ input: UnsafePointer<Float>?, _ inputCount: Int,
                               _ output: UnsafeMutablePointer<Float>?, _ outputCount: Int) -> Int32 {
    withSessionInUse(session, in: "strata_session_run") { (h) throws(StrataError) in
        let f = "strata_session_run"
        let s = h.session
        let input = try require(input, "input", in: f)
        let output = try require(output, "output", in: f)
        let model = s.model
        guard model.inputs.count == 1, model.outputs.count == 1 else {
            throw StrataError(.unsupported, "\(f): the model has \(model.inputs.count) inputs and \(model.outputs.count) outputs; this call runs models with exactly one of each; use strata_session_run_multi (one buffer per input and output)")
        }
        guard batch >= 1 else { throw StrataError(.invalidArgument, "\(f): batch is \(batch); it must be at least 1") }
        guard batch <= Int64(Int32.max) else { throw StrataError(.invalidArgument, "\(f): batch \(batch) is too large (at most 2^31-1)") }
        let inInfo = model.inputs[0], outInfo = model.outputs[0]
        guard let needIn = checkedMul(Int(batch), inInfo.sampleCount), let needOut = checkedMul(Int(batch), outInfo.sampleCount) else {
            throw StrataError(.invalidArgument, "\(f): batch \(batch) is too large: buffer sizes overflow")
        }
        guard count(inputCount) == UInt(needIn) else {
            throw StrataError(.shapeMismatch, "\(f): input_count is \(count(inputCount)) but input '\(inInfo.name)' \(describeShape(inInfo.dims)) at batch \(batch) needs \(needIn) floats (\(inInfo.sampleCount) per sample)")
        }
        guard count(outputCount) >= UInt(needOut) else {
            throw StrataError(.bufferTooSmall, "\(f): output_count is \(count(outputCount)) but output '\(outInfo.name)' \(describeShape(outInfo.dims)) at batch \(batch) needs \(needOut) floats (\(outInfo.sampleCount) per sample)")
        }
        try s.run(batch: Int(batch), input: input, output: output)
    }
}
