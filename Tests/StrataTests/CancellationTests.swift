import CStrataABI
import Testing

/// What the test abort callback sees through `abort_user_data`.
struct AbortCounter {
    /// Calls so far.
    var calls: Int32 = 0
    /// The callback returns non-zero on every call after this many.
    var allowed: Int32 = .max
}

/// The abort callback of these tests: counts calls, cancels once `allowed` is used up.
let countingAbort: strata_abort_callback = { userData in
    let counter = userData!.assumingMemoryBound(to: AbortCounter.self)
    counter.pointee.calls += 1
    return counter.pointee.calls > counter.pointee.allowed ? 1 : 0
}

/// A session on `model` whose abort callback uses `counter` (which must outlive it).
func abortableSession(_ model: OpaquePointer, _ counter: UnsafeMutablePointer<AbortCounter>,
                      memoryLimit: Int = 0) -> OpaquePointer? {
    var p = strata_session_default_params()
    p.abort_callback = countingAbort
    p.abort_user_data = UnsafeMutableRawPointer(counter)
    p.memory_limit = memoryLimit
    let (status, session) = createSession(model, p)
    precondition(status == STRATA_STATUS_OK, lastError())
    return session
}

@Suite("Cancellation: the abort callback")
struct CancellationTests {
    static let steps = 4  // TestModels.mlp after fusion: Linear+Relu, Linear+Tanh, Linear, Softmax

    @Test("it is polled once before each step; returning non-zero before step k+1 is CANCELLED, and the next run is correct",
          arguments: 0..<4)
    func cancelAfterSteps(k: Int32) throws {
        try withLoaded(TestModels.mlp) { loaded in
            #expect(strata_session_n_steps(loaded.session) == Int32(Self.steps))
            let counter = UnsafeMutablePointer<AbortCounter>.allocate(capacity: 1)
            defer { counter.deallocate() }
            counter.initialize(to: AbortCounter(allowed: k))
            let session = abortableSession(loaded.model, counter)
            defer { strata_session_free(session) }
            let x = TestModels.inputs(7 * TestModels.mlpIn, seed: 7)
            let (status, _) = runSession(session, batch: 7, x, outputCount: 70)
            #expect(status == STRATA_STATUS_CANCELLED)
            #expect(counter.pointee.calls == k + 1)
            #expect(lastError().contains("abort callback stopped the run before step \(k + 1) of \(Self.steps)"), "\(lastError())")
            #expect(String(cString: strata_status_string(status)) == "cancelled")

            counter.pointee = AbortCounter()  // let the next run finish
            let (s, y) = runSession(session, batch: 7, x, outputCount: 70)
            #expect(s == STRATA_STATUS_OK)
            #expect(bits(y) == bits(mlpReference(loaded.model, [7])[0]))
            #expect(counter.pointee.calls == Int32(Self.steps))
        }
    }

    @Test("a chunked run polls it before each step of every chunk, so it can stop between chunks")
    func cancelBetweenChunks() throws {
        try withLoaded(TestModels.mlp) { loaded in
            let counter = UnsafeMutablePointer<AbortCounter>.allocate(capacity: 1)
            defer { counter.deallocate() }
            counter.initialize(to: AbortCounter())
            let session = abortableSession(loaded.model, counter, memoryLimit: workspaceSize(loaded.model, batch: 16))
            defer { strata_session_free(session) }
            let x = TestModels.inputs(100 * TestModels.mlpIn, seed: 100)
            var (status, y) = runSession(session, batch: 100, x, outputCount: 1000)
            #expect(status == STRATA_STATUS_OK)
            #expect(counter.pointee.calls == Int32(7 * Self.steps))  // ceil(100 / 16) = 7 chunks
            #expect(bits(y) == bits(mlpReference(loaded.model, [100])[0]))

            counter.pointee = AbortCounter(allowed: Int32(2 * Self.steps))  // stop before the third chunk
            (status, _) = runSession(session, batch: 100, x, outputCount: 1000)
            #expect(status == STRATA_STATUS_CANCELLED && counter.pointee.calls == Int32(2 * Self.steps + 1))
            #expect(lastError().contains("before step 1 of \(Self.steps)"), "\(lastError())")

            counter.pointee = AbortCounter()
            (status, y) = runSession(session, batch: 100, x, outputCount: 1000)
            #expect(status == STRATA_STATUS_OK && bits(y) == bits(mlpReference(loaded.model, [100])[0]))
        }
    }

    @Test("a multi-threaded session is cancelled the same way and stays usable")
    func cancelWithThreads() throws {
        try withLoaded(TestModels.mlp) { loaded in
            let counter = UnsafeMutablePointer<AbortCounter>.allocate(capacity: 1)
            defer { counter.deallocate() }
            counter.initialize(to: AbortCounter(allowed: 1))
            var p = strata_session_default_params()
            p.n_threads = 2
            p.abort_callback = countingAbort
            p.abort_user_data = UnsafeMutableRawPointer(counter)
            let (created, session) = createSession(loaded.model, p)
            #expect(created == STRATA_STATUS_OK)
            defer { strata_session_free(session) }
            let x = TestModels.inputs(300 * TestModels.mlpIn, seed: 300)
            #expect(runSession(session, batch: 300, x, outputCount: 3000).status == STRATA_STATUS_CANCELLED)
            counter.pointee = AbortCounter()
            let (status, y) = runSession(session, batch: 300, x, outputCount: 3000)
            #expect(status == STRATA_STATUS_OK && bits(y) == bits(mlpReference(loaded.model, [300])[0]))
        }
    }
}
