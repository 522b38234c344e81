import StrataCore
import StrataEngine

// Streaming: recurrent state a session keeps between runs (include/strata.h, "Streaming").

/// `strata_session_set_stateful`: turns held recurrent state on (non-zero) or off; either
/// forgets the state held so far.
@_cdecl("strata_session_set_stateful")
public func strata_session_set_stateful(_ session: OpaquePointer?, _ enabled: Int32) -> Int32 {
    withSessionInUse(session, in: "strata_session_set_stateful") { (h) throws(StrataError) in
        do throws(StrataError) {
            try h.session.setStateful(enabled != 0)
        } catch {
            throw StrataError(error.status, "strata_session_set_stateful: \(error.message)")
        }
    }
}

/// `strata_session_reset_state`: forgets the held recurrent state; the next run starts every
/// stream from the initial state.
@_cdecl("strata_session_reset_state")
public func strata_session_reset_state(_ session: OpaquePointer?) -> Int32 {
    withSessionInUse(session, in: "strata_session_reset_state") { (h) throws(StrataError) in
        guard h.session.isStateful else {
            throw StrataError(.invalidArgument, "strata_session_reset_state: the session is not stateful; call strata_session_set_stateful(session, 1) first")
        }
        h.session.resetState()
    }
}

/// `strata_session_is_stateful`: 1 when the session keeps recurrent state between runs, 0 when
/// not, NULL_POINTER (negative) when `session` is NULL.
@_cdecl("strata_session_is_stateful")
public func strata_session_is_stateful(_ session: OpaquePointer?) -> Int32 {
    guard let session else {
        LastError.set("strata_session_is_stateful: argument 'session' is NULL")
        return Status.nullPointer.rawValue
    }
    return SessionHandle.from(session).session.isStateful ? 1 : 0
}
