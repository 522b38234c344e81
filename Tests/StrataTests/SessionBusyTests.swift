#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CStrataABI
import Synchronization
import Testing

/// What the nested-call abort callback sees through `abort_user_data`: on its first call it
/// makes `action` on `session` (its own run's session) and records the status.
struct NestedCall {
    enum Action: Int32 { case run, runMulti, setProfiling, profileStep, free, freeThenRun }
    var session: OpaquePointer? = nil
    var action: Action = .run
    var calls: Int32 = 0
    var statuses: [Int32] = []
    var messages: [String] = []
    /// A one-sample input and output for the nested runs (the output must stay untouched).
    var input = [Float](repeating: 0.5, count: TestModels.mlpIn)
    var output = [Float](repeating: .nan, count: TestModels.mlpOut)
}

/// The abort callback of the nested-call tests (never stops the run).
let nestedCallAbort: strata_abort_callback = { userData in
    let n = userData!.assumingMemoryBound(to: NestedCall.self)
    n.pointee.calls += 1
    guard n.pointee.calls == 1 else { return 0 }
    let session = n.pointee.session
    func record(_ status: Int32) { n.pointee.statuses.append(status); n.pointee.messages.append(lastError()) }
    func run() -> Int32 {
        n.pointee.input.withUnsafeBufferPointer { x in
            n.pointee.output.withUnsafeMutableBufferPointer { y in
                strata_session_run(session, 1, x.baseAddress, x.count, y.baseAddress, y.count)
            }
        }
    }
    switch n.pointee.action {
    case .run: record(run())
    case .runMulti:
        n.pointee.input.withUnsafeBufferPointer { x in
            n.pointee.output.withUnsafeMutableBufferPointer { y in
                var ins: [UnsafePointer<Float>?] = [x.baseAddress], outs: [UnsafeMutablePointer<Float>?] = [y.baseAddress]
                var inCounts = [x.count], outCounts = [y.count]
                record(strata_session_run_multi(session, 1, &ins, &inCounts, 1, &outs, &outCounts, 1))
            }
        }
    case .setProfiling: record(strata_session_set_profiling(session, 1))
    case .profileStep: record(strata_session_profile_step(session, 0, nil, nil, nil))
    case .free: strata_session_free(session)
    case .freeThenRun:
        strata_session_free(session)
        record(run())
        strata_session_free(session)  // a second free while the first is pending: ignored
        record(run())
    }
    return 0
}

/// Per-thread outcome counts of the shared-session stress test.
struct SharedSessionCounts: Equatable {
    var right = 0, wrong = 0, busy = 0, other = 0
}

@Suite("SessionBusy: the in-use flag (one call at a time per session)")
struct SessionBusyTests {
    @Test("a call on the session from inside its own run (the abort callback) is SESSION_BUSY; the outer run is right",
          arguments: [NestedCall.Action.run, .runMulti, .setProfiling, .profileStep])
    func nestedCallIsBusy(action: NestedCall.Action) throws {
        try withLoaded(TestModels.mlp) { loaded in
            let n = UnsafeMutablePointer<NestedCall>.allocate(capacity: 1)
            n.initialize(to: NestedCall(action: action))
            defer { n.deinitialize(count: 1); n.deallocate() }
            var p = strata_session_default_params()
            p.abort_callback = nestedCallAbort
            p.abort_user_data = UnsafeMutableRawPointer(n)
            let (status, session) = createSession(loaded.model, p)
            #expect(status == STRATA_STATUS_OK)
            defer { strata_session_free(session) }
            n.pointee.session = session
            let (s, y) = runSession(session, batch: 7, TestModels.inputs(7 * TestModels.mlpIn, seed: 7), outputCount: 7 * TestModels.mlpOut)
            #expect(s == STRATA_STATUS_OK, "\(lastError())")
            #expect(bits(y) == bits(mlpReference(loaded.model, [7])[0]))
            #expect(n.pointee.statuses == [STRATA_STATUS_SESSION_BUSY])
            #expect(n.pointee.messages.allSatisfy { $0.contains("in use by another call") && $0.contains("one call at a time") }, "\(n.pointee.messages)")
            #expect(n.pointee.output.allSatisfy { $0.isNaN }, "a busy call writes nothing")
            #expect(String(cString: strata_status_string(STRATA_STATUS_SESSION_BUSY)).contains("session busy"))
            // The flag is free again: the session runs, profiles and reports normally.
            #expect(strata_session_set_profiling(session, 1) == STRATA_STATUS_OK)
            #expect(runSession(session, batch: 1, TestModels.inputs(TestModels.mlpIn, seed: 1), outputCount: TestModels.mlpOut).status == STRATA_STATUS_OK)
            var runs: Int64 = 0
            #expect(strata_session_profile_step(session, 0, nil, nil, &runs) == STRATA_STATUS_OK && runs == 1)
        }
    }

    @Test("strata_session_free during the session's own run: the run ends OK and right, later calls are SESSION_BUSY, a second free is ignored, the session is then released",
          arguments: [NestedCall.Action.free, .freeThenRun])
    func freeDuringRun(action: NestedCall.Action) throws {
        try withLoaded(TestModels.mlp) { loaded in
            let n = UnsafeMutablePointer<NestedCall>.allocate(capacity: 1)
            n.initialize(to: NestedCall(action: action))
            defer { n.deinitialize(count: 1); n.deallocate() }
            var p = strata_session_default_params()
            p.abort_callback = nestedCallAbort
            p.abort_user_data = UnsafeMutableRawPointer(n)
            let (status, session) = createSession(loaded.model, p)
            #expect(status == STRATA_STATUS_OK)
            n.pointee.session = session
            let (s, y) = runSession(session, batch: 5, TestModels.inputs(5 * TestModels.mlpIn, seed: 5), outputCount: 5 * TestModels.mlpOut)
            // No strata_session_free here: the run released the session (LeakSanitizer checks it).
            #expect(s == STRATA_STATUS_OK, "\(lastError())")
            #expect(bits(y) == bits(mlpReference(loaded.model, [5])[0]))
            if action == .freeThenRun {
                #expect(n.pointee.statuses == [STRATA_STATUS_SESSION_BUSY, STRATA_STATUS_SESSION_BUSY])
                #expect(n.pointee.messages.allSatisfy { $0.contains("being freed") }, "\(n.pointee.messages)")
            }
            #expect(n.pointee.calls == Int32(CancellationTests.steps))
        }
    }

    @Test("strata_session_free from another thread while a run is in progress: the run ends OK and right, the session is released by the run")
    func freeFromAnotherThread() throws {
        try withLoaded(TestModels.mlp) { loaded in
            final class Handshake: @unchecked Sendable {
                let entered = Atomic<Int>(0), freed = Atomic<Int>(0)
            }
            let hs = Handshake()
            // The callback waits (on its first call) until the other thread has freed the session.
            let wait: strata_abort_callback = { userData in
                let hs = Unmanaged<Handshake>.fromOpaque(userData!).takeUnretainedValue()
                if hs.entered.exchange(1, ordering: .acquiringAndReleasing) == 0 {
                    while hs.freed.load(ordering: .acquiring) == 0 { sched_yield() }
                }
                return 0
            }
            var p = strata_session_default_params()
            p.abort_callback = wait
            p.abort_user_data = Unmanaged.passUnretained(hs).toOpaque()
            let (status, session) = createSession(loaded.model, p)
            #expect(status == STRATA_STATUS_OK)
            let shared = Captured(session)
            let freer = startThread {
                while hs.entered.load(ordering: .acquiring) == 0 { sched_yield() }
                strata_session_free(shared.value)
                hs.freed.store(1, ordering: .releasing)
            }
            let (s, y) = withExtendedLifetime(hs) {
                runSession(session, batch: 9, TestModels.inputs(9 * TestModels.mlpIn, seed: 9), outputCount: 9 * TestModels.mlpOut)
            }
            pthread_join(freer, nil)
            #expect(s == STRATA_STATUS_OK, "\(lastError())")
            #expect(bits(y) == bits(mlpReference(loaded.model, [9])[0]))
        }
    }

    @Test("Stress: 2 threads share one session; every OK output is right (zero wrong outputs with OK), the rest is SESSION_BUSY",
          arguments: [Int32(1), 2])
    func twoThreadsShareASession(sessionThreads: Int32) throws {
        try withLoaded(TestModels.mlp) { loaded in
            let batches = [1, 3, 8, 21, 64, 100]
            let expected = Captured(mlpReference(loaded.model, batches))
            let inputs = Captured(batches.map { TestModels.inputs($0 * TestModels.mlpIn, seed: $0) })
            var p = strata_session_default_params()
            p.n_threads = sessionThreads
            let (status, session) = createSession(loaded.model, p)
            #expect(status == STRATA_STATUS_OK)
            defer { strata_session_free(session) }
            let shared = Captured(session)
            let threads = 2, runs = stressRuns * 2  // under TSan: 2 × 20 000 runs per case, the scale issue 19 measured (40 000)
            let counts = UnsafeMutablePointer<SharedSessionCounts>.allocate(capacity: threads)
            counts.initialize(repeating: SharedSessionCounts(), count: threads)
            defer { counts.deallocate() }
            let results = Captured(counts)
            var handles: [pthread_t] = []
            for t in 0..<threads {
                handles.append(startThread {
                    var c = SharedSessionCounts()
                    var output = [Float](repeating: 0, count: 100 * TestModels.mlpOut)
                    for i in 0..<runs {
                        let k = (i &+ t &* 3) % batches.count, b = batches[k]
                        let status = inputs.value[k].withUnsafeBufferPointer { x in
                            output.withUnsafeMutableBufferPointer { y in
                                strata_session_run(shared.value, Int64(b), x.baseAddress, x.count, y.baseAddress, b * TestModels.mlpOut)
                            }
                        }
                        let want = expected.value[k]
                        switch status {
                        case STRATA_STATUS_OK:
                            if (0..<want.count).allSatisfy({ output[$0].bitPattern == want[$0].bitPattern }) { c.right += 1 } else { c.wrong += 1 }
                        case STRATA_STATUS_SESSION_BUSY: c.busy += 1
                        default: c.other += 1
                        }
                    }
                    results.value[t] = c
                })
            }
            for h in handles { pthread_join(h, nil) }
            let all = Array(UnsafeBufferPointer(start: counts, count: threads))
            let total = all.reduce(SharedSessionCounts()) {
                SharedSessionCounts(right: $0.right + $1.right, wrong: $0.wrong + $1.wrong, busy: $0.busy + $1.busy, other: $0.other + $1.other)
            }
            #expect(total.wrong == 0 && total.other == 0, "\(total)")
            #expect(total.right + total.busy == threads * runs && total.right > 0, "\(total)")
        }
    }
}
