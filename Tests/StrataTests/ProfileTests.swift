import CStrataABI
import Testing

/// strata_session_set_profiling / n_steps / profile_step.
@Suite("Profiling")
struct ProfileTests {
    @Test func stepsAreDescribedAndTimedAfterProfiledRuns() throws {
        try withLoaded { l in
            #expect(strata_session_n_steps(l.session) == 1)  // Flatten is an alias, Linear+Relu fused
            var name: UnsafePointer<CChar>? = nil
            var mean = -1.0
            var runs: Int64 = -1
            #expect(strata_session_profile_step(l.session, 0, &name, &mean, &runs) == STRATA_STATUS_OK)
            #expect(String(cString: name!) == "Linear+Relu [fc, relu] [N, 4] -> [N, 3]")
            #expect(mean == 0 && runs == 0)  // profiling is off by default

            #expect(strata_session_set_profiling(l.session, 1) == STRATA_STATUS_OK)
            for _ in 0..<5 { #expect(l.run(batch: 2, [Float](repeating: 1, count: 8)).status == STRATA_STATUS_OK) }
            #expect(strata_session_profile_step(l.session, 0, nil, &mean, &runs) == STRATA_STATUS_OK)
            #expect(runs == 5)
            #expect(mean > 0)

            #expect(strata_session_set_profiling(l.session, 1) == STRATA_STATUS_OK)  // resets
            #expect(strata_session_profile_step(l.session, 0, nil, nil, &runs) == STRATA_STATUS_OK)
            #expect(runs == 0)
            #expect(strata_session_set_profiling(l.session, 0) == STRATA_STATUS_OK)
        }
    }

    @Test func badArgumentsAreReported() throws {
        #expect(strata_session_n_steps(nil) == STRATA_STATUS_NULL_POINTER)
        #expect(strata_session_set_profiling(nil, 1) == STRATA_STATUS_NULL_POINTER)
        #expect(lastError().contains("'session' is NULL"))
        try withLoaded { l in
            var runs: Int64 = 77
            #expect(strata_session_profile_step(l.session, 1, nil, nil, &runs) == STRATA_STATUS_INVALID_ARGUMENT)
            #expect(lastError().contains("index 1 is out of range; the plan has 1 steps"))
            #expect(strata_session_profile_step(l.session, -1, nil, nil, &runs) == STRATA_STATUS_INVALID_ARGUMENT)
            #expect(runs == 77)
        }
    }
}
