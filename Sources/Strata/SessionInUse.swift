import StrataCore
import Synchronization

// The rule "one call at a time per session", enforced (include/strata.h, "Threads"): every call
// that reads or writes a session's mutable state holds the session's atomic in-use word for its
// duration; a second caller meanwhile gets SESSION_BUSY instead of racing on the buffers.
// strata_session_free while a call holds the word defers the release to that call's return.
// (Synchronization's Atomic, as the engine's ThreadPool: it builds with Embedded Swift too.)

/// The atomic in-use word of one session: bit 0 RUNNING (a call holds the session), bit 1
/// FREE_PENDING (strata_session_free arrived while a call held it). Lock-free.
final class SessionInUseFlag {
    static let running: Int32 = 1
    static let freePending: Int32 = 2
    private let word = Atomic<Int32>(0)

    /// Marks the session RUNNING if it was idle. Returns 0 when the caller now holds it, else
    /// the word as found (RUNNING, or with FREE_PENDING set).
    @inline(__always)
    func enter() -> Int32 {
        let (exchanged, found) = word.compareExchange(expected: 0, desired: Self.running,
                                                      successOrdering: .acquiring, failureOrdering: .relaxed)
        return exchanged ? 0 : found
    }

    /// Clears RUNNING. True when a free arrived meanwhile: the caller must release the session.
    /// (Acquiring-and-releasing: this call's writes happen before the next holder's, and the
    /// releasing thread sees what the freeing thread did.)
    @inline(__always)
    func leave() -> Bool {
        word.bitwiseAnd(~Self.running, ordering: .acquiringAndReleasing).oldValue & Self.freePending != 0
    }

    /// Sets FREE_PENDING. Returns 1 when the session was idle (the caller releases it now), 0 when
    /// a call holds it (that call releases it as it returns), 2 when a free was already pending.
    func requestFree() -> Int32 {
        let old = word.bitwiseOr(Self.freePending, ordering: .acquiringAndReleasing).oldValue
        if old & Self.freePending != 0 { return 2 }
        return old & Self.running != 0 ? 0 : 1
    }
}

/// The sentence for a call that found the session held; names the rule.
func sessionBusyMessage(_ function: String, found state: Int32) -> String {
    if state & SessionInUseFlag.freePending != 0 {
        return "\(function): the session is being freed (strata_session_free was called while another call was using it); a freed session must not be used"
    }
    return "\(function): the session is in use by another call (another thread, or this run's abort callback); a session runs one call at a time: create one session per thread, or serialize the calls"
}

/// Runs `body` on the session behind `session` while holding its in-use word: NULL_POINTER when
/// `session` is NULL; SESSION_BUSY, without running `body`, when another call holds the word.
/// When strata_session_free arrived during `body`, releases the session before returning.
@inline(__always)
func withSessionInUse(_ session: OpaquePointer?, in function: String,
                      _ body: (SessionHandle) throws(StrataError) -> Void) -> Int32 {
    guard let session else {
        LastError.set("\(function): argument 'session' is NULL")
        return Status.nullPointer.rawValue
    }
    let handle = SessionHandle.from(session)
    let found = handle.inUse.enter()
    guard found == 0 else {
        LastError.set(sessionBusyMessage(function, found: found))
        return Status.sessionBusy.rawValue
    }
    let status = guarded { () throws(StrataError) in try body(handle) }
    if handle.inUse.leave() {
        Unmanaged<SessionHandle>.fromOpaque(UnsafeRawPointer(session)).release()
    }
    return status
}

/// `strata_session_free` (NULL is a no-op). A session that another call is using is released
/// when that call returns (its result is unaffected); a second free while that one is pending is
/// ignored. A free after the release cannot be detected (include/strata.h).
@_cdecl("strata_session_free")
public func strata_session_free(_ session: OpaquePointer?) {
    guard let session else { return }
    if SessionHandle.from(session).inUse.requestFree() == 1 {
        Unmanaged<SessionHandle>.fromOpaque(UnsafeRawPointer(session)).release()
    }
}
