import CStrataABI
import Testing

/// `strata_session_create` with `params`; the status and the session (freed by the caller).
func createSession(_ model: OpaquePointer, _ params: strata_session_params?) -> (status: Int32, session: OpaquePointer?) {
    var session = garbagePointer
    let status: Int32
    if var p = params { status = strata_session_create(model, &p, &session) } else { status = strata_session_create(model, nil, &session) }
    return (status, session)
}

@Suite("Sessions")
struct SessionTests {
    @Test("default params: size is sizeof(strata_session_params), one sample, one thread")
    func defaultParams() {
        let p = strata_session_default_params()
        #expect(p.size == MemoryLayout<strata_session_params>.size)
        #expect(p.initial_batch == 1)
        #expect(p.n_threads == 1)
    }

    @Test("sessions are created from NULL or valid params and run any batch, growing")
    func createAndRun() throws {
        try withLoaded { loaded in
            var custom = strata_session_default_params()
            custom.initial_batch = 64
            custom.n_threads = 0
            var bigger = strata_session_default_params()
            bigger.size += 16  // a newer caller's larger struct
            for params in [nil, strata_session_default_params(), custom, bigger] {
                let (status, session) = createSession(loaded.model, params)
                #expect(status == STRATA_STATUS_OK, "\(lastError())")
                for batch in [1, 3, 100, 2] {
                    let x = (0..<(batch * 4)).map { Float($0 % 11) - 5 }
                    let (s, y) = runSession(session, batch: Int64(batch), x, outputCount: batch * 3)
                    #expect(s == STRATA_STATUS_OK && y == TestModels.expected(x), "batch \(batch)")
                }
                strata_session_free(session)
            }
        }
    }

    @Test("invalid params are INVALID_ARGUMENT naming the field; *out_session is NULL",
          arguments: [("size", 0, 1, 1), ("size", 8, 1, 1), ("initial_batch", 24, 0, 1), ("initial_batch", 24, -5, 1),
                      ("n_threads", 24, 1, -1)] as [(String, Int, Int64, Int32)])
    func invalidParams(field: String, size: Int, initialBatch: Int64, threads: Int32) throws {
        try withLoaded { loaded in
            var params = strata_session_default_params()
            (params.size, params.initial_batch, params.n_threads) = (size, initialBatch, threads)
            let (status, session) = createSession(loaded.model, params)
            #expect(status == STRATA_STATUS_INVALID_ARGUMENT)
            #expect(session == nil)
            #expect(lastError().contains("params->\(field)"), "\(lastError())")
        }
    }

    @Test("an initial batch whose buffers cannot be allocated is OUT_OF_MEMORY; one that overflows is INVALID_ARGUMENT")
    func hugeInitialBatch() throws {
        try withLoaded(TestModels.withBuffers) { loaded in
            var params = strata_session_default_params()
            params.initial_batch = 1 << 45  // × 64 bytes per sample: more than any address space
            let (status, session) = createSession(loaded.model, params)
            #expect(status == STRATA_STATUS_OUT_OF_MEMORY && session == nil, "\(lastError())")
            #expect(lastError().contains("cannot allocate"), "\(lastError())")
            params.initial_batch = .max
            #expect(createSession(loaded.model, params).status == STRATA_STATUS_INVALID_ARGUMENT)
            #expect(lastError().contains("too large"), "\(lastError())")
        }
    }

    @Test("batch 0 or negative is INVALID_ARGUMENT", arguments: [0, -1, Int64.min])
    func batchBelowOne(batch: Int64) throws {
        try withLoaded { loaded in
            #expect(loaded.run(batch: batch, [], outputCount: 0).status == STRATA_STATUS_INVALID_ARGUMENT)
            #expect(lastError().contains("batch is \(batch)"), "\(lastError())")
        }
    }

    @Test("a batch too large for the buffers is INVALID_ARGUMENT", arguments: [Int64(Int32.max) + 1, Int64.max])
    func batchTooLarge(batch: Int64) throws {
        try withLoaded { loaded in
            #expect(loaded.run(batch: batch, [1, 2, 3, 4], outputCount: 3).status == STRATA_STATUS_INVALID_ARGUMENT)
            #expect(lastError().contains("too large"), "\(lastError())")
        }
    }

    @Test("a wrong input_count is SHAPE_MISMATCH naming the count and input", arguments: [0, 7, 9, 16])
    func wrongInputCount(count: Int) throws {
        try withLoaded { loaded in
            let x = [Float](repeating: 1, count: count)
            #expect(loaded.run(batch: 2, x, outputCount: 6).status == STRATA_STATUS_SHAPE_MISMATCH)
            #expect(lastError().contains("input_count is \(count)") && lastError().contains("'image'"), "\(lastError())")
        }
    }

    @Test("a too-small output_count is BUFFER_TOO_SMALL; a larger one is fine", arguments: [0, 1, 5])
    func outputCount(count: Int) throws {
        try withLoaded { loaded in
            #expect(loaded.run(batch: 2, TestModels.input, outputCount: count).status == STRATA_STATUS_BUFFER_TOO_SMALL)
            #expect(lastError().contains("output_count is \(count)") && lastError().contains("needs 6"), "\(lastError())")
            let (status, y) = loaded.run(batch: 2, TestModels.input, outputCount: 6 + count)
            #expect(status == STRATA_STATUS_OK && Array(y.prefix(6)) == [1, 1, 10.5, 0, 0, 0])
        }
    }

    @Test("a model with two outputs is UNSUPPORTED by strata_session_run")
    func twoOutputs() throws {
        try withLoaded(TestModels.twoOutputs) { loaded in
            #expect(runSession(loaded.session, batch: 1, [1, 2, 3], outputCount: 6).status == STRATA_STATUS_UNSUPPORTED)
            #expect(lastError().contains("2 outputs"), "\(lastError())")
        }
    }

    @Test("the session stays usable after each kind of failed run")
    func usableAfterFailure() throws {
        try withLoaded { loaded in
            let failures: [(Int64, [Float], Int)] = [(0, TestModels.input, 6), (-3, TestModels.input, 6), (2, [1, 2, 3], 6),
                                                     (2, TestModels.input, 5), (Int64.max, TestModels.input, 6)]
            for (batch, x, outCount) in failures {
                #expect(loaded.run(batch: batch, x, outputCount: outCount).status != STRATA_STATUS_OK)
                let (status, y) = loaded.run(batch: 2, TestModels.input)
                #expect(status == STRATA_STATUS_OK && y == [1, 1, 10.5, 0, 0, 0])
            }
        }
    }

    @Test("freeing the model before its session leaves the session runnable (it keeps the model alive)")
    func modelFreedFirst() {
        var (status, model) = loadMemory(TestModels.classifier)
        #expect(status == STRATA_STATUS_OK)
        var session: OpaquePointer? = nil
        #expect(strata_session_create(model, nil, &session) == STRATA_STATUS_OK)
        strata_model_free(model)
        model = nil
        strata_model_free(loadMemory(TestModels.classifier).model)  // churn the allocator a little
        for _ in 0..<3 {
            let (s, y) = runSession(session, batch: 2, TestModels.input, outputCount: 6)
            #expect(s == STRATA_STATUS_OK && y == [1, 1, 10.5, 0, 0, 0])
        }
        strata_session_free(session)
    }

    @Test("the free functions accept NULL")
    func freeNull() {
        strata_model_free(nil)
        strata_session_free(nil)
    }
}
