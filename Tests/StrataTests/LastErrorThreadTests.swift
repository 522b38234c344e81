import CStrataABI
import Testing

/// A value written on one thread and read after `pthread_join` on another.
final class Captured<T>: @unchecked Sendable { var value: T; init(_ value: T) { self.value = value } }

@Suite("strata_last_error is per thread")
struct LastErrorThreadTests {
    @Test("a thread that never failed reads \"\"")
    func freshThreadIsEmpty() {
        let seen = Captured("unset")
        onNewThread { seen.value = lastError() }
        #expect(seen.value == "")
    }

    @Test("an error on one thread shows on that thread only")
    func errorsStayOnTheirThread() {
        #expect(strata_model_n_outputs(nil) == STRATA_STATUS_NULL_POINTER)
        let mine = lastError()
        #expect(mine.contains("strata_model_n_outputs"))

        let other = Captured(("", ""))
        onNewThread {
            let before = lastError()
            _ = strata_session_run(nil, 1, nil, 0, nil, 0)
            other.value = (before, lastError())
        }
        #expect(other.value.0 == "", "the other thread does not see this thread's error")
        #expect(other.value.1.contains("strata_session_run"))
        #expect(lastError() == mine, "this thread does not see the other thread's error")
    }

    @Test("a successful call leaves the last error as it was")
    func successDoesNotClear() throws {
        try withLoaded { loaded in
            _ = strata_model_n_outputs(nil)
            let message = lastError()
            #expect(loaded.run(batch: 2, TestModels.input).status == STRATA_STATUS_OK)
            #expect(lastError() == message)
        }
    }
}
