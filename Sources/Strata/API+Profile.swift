import StrataCore
import StrataEngine

// Per-step profiling of a session (include/strata.h, "Profiling").

/// `strata_session_set_profiling`: turns per-step timing of later runs on (resetting it) or off.
@_cdecl("strata_session_set_profiling")
public func strata_session_set_profiling(_ session: OpaquePointer?, _ enabled: Int32) -> Int32 {
    withSessionInUse(session, in: "strata_session_set_profiling") { (h) throws(StrataError) in
        h.session.setProfiling(enabled != 0)
    }
}

/// `strata_session_n_steps`: the number of steps of the session's plan (after fusion).
@_cdecl("strata_session_n_steps")
public func strata_session_n_steps(_ session: OpaquePointer?) -> Int32 {
    guard let session else {
        LastError.set("strata_session_n_steps: argument 'session' is NULL")
        return Status.nullPointer.rawValue
    }
    return Int32(SessionHandle.from(session).stepNames.count)
}

/// `strata_session_profile_step`: a step's description and its mean time over profiled runs.
@_cdecl("strata_session_profile_step")
public func strata_session_profile_step(_ session: OpaquePointer?, _ index: Int32,
                                        _ outName: UnsafeMutablePointer<UnsafePointer<CChar>?>?,
                                        _ outMeanMicroseconds: UnsafeMutablePointer<Double>?,
                                        _ outRuns: UnsafeMutablePointer<Int64>?) -> Int32 {
    withSessionInUse(session, in: "strata_session_profile_step") { (h) throws(StrataError) in
        let f = "strata_session_profile_step"
        guard index >= 0, Int(index) < h.stepNames.count else {
            throw StrataError(.invalidArgument, "\(f): index \(index) is out of range; the plan has \(h.stepNames.count) steps")
        }
        outName?.pointee = UnsafePointer(h.stepNames[Int(index)])
        let profile = h.session.profile
        outMeanMicroseconds?.pointee = profile?.meanMicroseconds(step: Int(index)) ?? 0
        outRuns?.pointee = Int64(profile?.runs ?? 0)
    }
}
