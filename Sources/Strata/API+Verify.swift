import CStrataABI
import StrataCore
import StrataEngine

// The C functions of include/strata.h's "Integrity, trusted loading and self-test" block.
// As in API.swift: check arguments, call the Swift API, map errors; nothing here may trap.

/// `strata_load_default_params`: CRC verification on.
@_cdecl("strata_load_default_params")
public func strata_load_default_params() -> strata_load_params {
    strata_load_params(size: MemoryLayout<strata_load_params>.size, verify_checksums: 1)
}

/// Reader options from a C params pointer (NULL = defaults).
private func readerOptions(_ params: UnsafePointer<strata_load_params>?, in function: String) throws(StrataError) -> LoadOptions {
    var options = LoadOptions()
    guard let params else { return options }
    let size = UnsafeRawPointer(params).load(as: Int.self)  // only the leading field first
    guard size >= MemoryLayout<strata_load_params>.size else {
        throw StrataError(.invalidArgument, "\(function): params->size is \(count(size)); get params from strata_load_default_params()")
    }
    let verify = params.pointee.verify_checksums
    guard verify == 0 || verify == 1 else {
        throw StrataError(.invalidArgument, "\(function): params->verify_checksums is \(verify); it must be 0 or 1")
    }
    options.verifyChecksums = verify == 1
    return options
}

/// `strata_model_load_file_with_params`: maps and validates a file with options.
@_cdecl("strataimpl_model_load_file_with_params")  // exported by the CPU gate in CStrataABI/abi.c
public func strata_model_load_file_with_params(_ path: UnsafePointer<CChar>?, _ params: UnsafePointer<strata_load_params>?,
                                               _ outModel: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    let f = "strata_model_load_file_with_params"
    return loadFile(path, outModel, in: f) { () throws(StrataError) in try readerOptions(params, in: f) }
}

/// `strata_model_load_memory_with_params`: copies and validates an in-memory image with options.
@_cdecl("strataimpl_model_load_memory_with_params")  // exported by the CPU gate in CStrataABI/abi.c
public func strata_model_load_memory_with_params(_ data: UnsafeRawPointer?, _ size: Int, _ params: UnsafePointer<strata_load_params>?,
                                                 _ outModel: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    let f = "strata_model_load_memory_with_params"
    return loadMemory(data, size, outModel, in: f) { () throws(StrataError) in try readerOptions(params, in: f) }
}

/// `strata_model_verify`: every CRC again, and the payload SHA-256 when recorded.
@_cdecl("strata_model_verify")
public func strata_model_verify(_ model: OpaquePointer?, _ outChecked: UnsafeMutablePointer<Int32>?) -> Int32 {
    guarded { () throws(StrataError) in
        let h = ModelHandle.from(try require(model, "model", in: "strata_model_verify"))
        _ = try h.model.verifyChecksums()
        outChecked?.pointee = try h.model.verifyPayloadDigest() == nil ? 0 : 1
    }
}

/// `strata_model_self_test`: runs the embedded reference samples and compares.
@_cdecl("strata_model_self_test")
public func strata_model_self_test(_ model: OpaquePointer?, _ outResult: UnsafeMutablePointer<strata_self_test_result>?) -> Int32 {
    guarded { () throws(StrataError) in
        let f = "strata_model_self_test"
        let h = ModelHandle.from(try require(model, "model", in: f))
        let out = try require(outResult, "out_result", in: f)
        let size = UnsafeRawPointer(out).load(as: Int.self)
        guard size >= MemoryLayout<strata_self_test_result>.size else {
            throw StrataError(.invalidArgument, "\(f): out_result->size is \(count(size)); set it to sizeof(strata_self_test_result)")
        }
        let r = try h.model.selfTest()
        out.pointee = strata_self_test_result(size: size, n_samples: Int64(r.sampleCount), n_elements: Int64(r.elementCount),
                                              max_abs_error: r.maxAbsoluteError, max_error_ratio: r.maxErrorRatio,
                                              passed: r.passed ? 1 : 0)
    }
}
