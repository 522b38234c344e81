#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif hasFeature(Embedded)
import CStrataLibc  // Embedded Swift (the `make lib` build) has no Glibc module
#endif
import CStrataABI
import StrataCore
import StrataEngine

// Session params (as they grow) and bounded memory (include/strata.h, "Bounded memory").

/// Size of the first version of `strata_session_params` (size, initial_batch, n_threads): the
/// smallest a caller may pass. Fields past a caller's `size` take their defaults.
let sessionParamsFirstSize = 24

/// Reads a caller's `strata_session_params` (nil = defaults): only its first `size` bytes, so an
/// older caller's shorter struct is never read past its end. Checks `size` and `n_threads`.
func readSessionParams(_ params: UnsafePointer<strata_session_params>?, in f: String) throws(StrataError) -> strata_session_params {
    var p = strata_session_default_params()
    if let params {
        // Read only the leading `size` field first: an older caller's struct may be shorter.
        let size = UnsafeRawPointer(params).load(as: Int.self)
        guard size >= sessionParamsFirstSize else {
            throw StrataError(.invalidArgument, "\(f): params->size is \(count(size)); get params from strata_session_default_params()")
        }
        withUnsafeMutableBytes(of: &p) { _ = memcpy($0.baseAddress!, params, min(size, $0.count)) }
        p.size = MemoryLayout<strata_session_params>.size
    }
    guard p.n_threads >= 0, p.n_threads <= Int32(Session.maxThreads) else {
        throw StrataError(.invalidArgument, "\(f): params->n_threads is \(p.n_threads); it must be 0…\(Session.maxThreads)")
    }
    return p
}

/// The engine's `MemoryBudget` for `memory_limit`, `workspace` and `workspace_size`.
func memoryBudget(_ p: strata_session_params, in f: String) throws(StrataError) -> MemoryBudget {
    var budget = MemoryBudget()
    if p.memory_limit != 0 { budget.limit = Int(clamping: count(p.memory_limit)) }
    if let workspace = p.workspace {
        budget.workspace = UnsafeMutableRawBufferPointer(start: workspace, count: Int(clamping: count(p.workspace_size)))
    } else if p.workspace_size != 0 {
        throw StrataError(.invalidArgument, "\(f): params->workspace is NULL but params->workspace_size is \(count(p.workspace_size))")
    }
    return budget
}

/// `strata_session_workspace_size`: bytes of scratch a session needs to run `batch` samples in one pass.
@_cdecl("strata_session_workspace_size")
public func strata_session_workspace_size(_ model: OpaquePointer?, _ params: UnsafePointer<strata_session_params>?,
                                          _ batch: Int64, _ outBytes: UnsafeMutablePointer<Int>?) -> Int32 {
    guarded { () throws(StrataError) in
        let f = "strata_session_workspace_size"
        let h = ModelHandle.from(try require(model, "model", in: f))
        let out = try require(outBytes, "out_bytes", in: f)
        let p = try readSessionParams(params, in: f)
        guard batch >= 1 else { throw StrataError(.invalidArgument, "\(f): batch is \(batch); it must be at least 1") }
        guard let bytes = Session.workspaceBytes(model: h.model, batch: Int(clamping: batch), threads: max(1, Int(p.n_threads))) else {
            throw StrataError(.invalidArgument, "\(f): batch \(batch) is too large: the workspace size overflows")
        }
        out.pointee = bytes
    }
}
