import CStrataABI
import Testing

/// `strata_session_workspace_size` for `batch` on `threads` threads (asserting success).
func workspaceSize(_ model: OpaquePointer, batch: Int64, threads: Int32 = 1) -> Int {
    var p = strata_session_default_params()
    p.n_threads = threads
    var bytes = -1
    let status = strata_session_workspace_size(model, &p, batch, &bytes)
    precondition(status == STRATA_STATUS_OK, lastError())
    return bytes
}

/// The outputs of `mlp` for each of `batches`, from a default session (one pass, one thread).
func mlpReference(_ model: OpaquePointer, _ batches: [Int]) -> [[Float]] {
    var session: OpaquePointer? = nil
    precondition(strata_session_create(model, nil, &session) == STRATA_STATUS_OK)
    defer { strata_session_free(session) }
    return batches.map { b in
        let (status, y) = runSession(session, batch: Int64(b), TestModels.inputs(b * TestModels.mlpIn, seed: b), outputCount: b * TestModels.mlpOut)
        precondition(status == STRATA_STATUS_OK, lastError())
        return y
    }
}

/// Bit patterns, so that NaNs compare and -0 ≠ +0.
func bits(_ x: [Float]) -> [UInt32] { x.map(\.bitPattern) }

@Suite("Bounded memory: workspace size, memory limit, caller workspace, chunking")
struct MemoryTests {
    static let batches = [1, 2, 3, 7, 16, 17, 64, 100, 257]

    @Test("workspace_size is linear in the batch; f32 weights need no per-thread GEMM scratch")
    func workspaceSizeFormula() throws {
        try withLoaded(TestModels.mlp) { loaded in
            let one = workspaceSize(loaded.model, batch: 1), two = workspaceSize(loaded.model, batch: 2)
            let perSample = two - one
            #expect(perSample > 0 && perSample % 64 == 0, "\(perSample)")
            #expect(workspaceSize(loaded.model, batch: 1000) == one + 999 * perSample)
            #expect(workspaceSize(loaded.model, batch: 1, threads: 2) == one)  // quantized weights: + 103 KiB per thread (test_reliability.py)
            #expect(workspaceSize(loaded.model, batch: 1, threads: 0) == one)  // 0 = the calling thread only
            var bytes = 0
            #expect(strata_session_workspace_size(loaded.model, nil, 5, &bytes) == STRATA_STATUS_OK)
            #expect(bytes == workspaceSize(loaded.model, batch: 5))
        }
    }

    @Test("workspace_size refuses batch < 1, an overflowing batch and bad params; *out_bytes untouched",
          arguments: [(0, 1, "batch is 0"), (-4, 1, "batch is -4"), (Int64.max, 1, "overflows"), (1, 300, "params->n_threads is 300")]
            as [(Int64, Int32, String)])
    func workspaceSizeErrors(batch: Int64, threads: Int32, message: String) throws {
        try withLoaded(TestModels.mlp) { loaded in
            var p = strata_session_default_params()
            p.n_threads = threads
            var bytes = 12345
            #expect(strata_session_workspace_size(loaded.model, &p, batch, &bytes) == STRATA_STATUS_INVALID_ARGUMENT)
            #expect(lastError().contains(message) && lastError().contains("strata_session_workspace_size"), "\(lastError())")
            #expect(bytes == 12345)
        }
    }

    @Test("a session with a memory limit gives the same bits as one without, for every batch and thread count",
          arguments: [(1, 1), (1, 16), (1, 64), (2, 5), (2, 300)] as [(Int32, Int64)])
    func memoryLimitChunksBitwise(threads: Int32, limitBatch: Int64) throws {
        try withLoaded(TestModels.mlp) { loaded in
            let expected = mlpReference(loaded.model, Self.batches)
            var p = strata_session_default_params()
            p.n_threads = threads
            p.memory_limit = workspaceSize(loaded.model, batch: limitBatch, threads: threads)
            let (status, session) = createSession(loaded.model, p)
            #expect(status == STRATA_STATUS_OK, "\(lastError())")
            defer { strata_session_free(session) }
            for (b, want) in zip(Self.batches, expected) {
                let (s, y) = runSession(session, batch: Int64(b), TestModels.inputs(b * TestModels.mlpIn, seed: b), outputCount: b * TestModels.mlpOut)
                #expect(s == STRATA_STATUS_OK && bits(y) == bits(want), "batch \(b), \(lastError())")
            }
        }
    }

    @Test("a session in a caller's workspace (any alignment) gives the same bits and writes nothing outside it",
          arguments: [(1, 0), (1, 1), (3, 13), (64, 32), (300, 7)] as [(Int64, Int)])
    func callerWorkspaceBitwise(workspaceBatch: Int64, misalignment: Int) throws {
        try withLoaded(TestModels.mlp) { loaded in
            let expected = mlpReference(loaded.model, Self.batches)
            let size = workspaceSize(loaded.model, batch: workspaceBatch)
            let guardBytes = 256
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: size + misalignment + 2 * guardBytes, alignment: 64)
            defer { buffer.deallocate() }
            buffer.initializeMemory(as: UInt8.self, repeating: 0xA5, count: size + misalignment + 2 * guardBytes)
            var p = strata_session_default_params()
            p.workspace = buffer + guardBytes + misalignment
            p.workspace_size = size
            let (status, session) = createSession(loaded.model, p)
            #expect(status == STRATA_STATUS_OK, "\(lastError())")
            for (b, want) in zip(Self.batches, expected) {
                let (s, y) = runSession(session, batch: Int64(b), TestModels.inputs(b * TestModels.mlpIn, seed: b), outputCount: b * TestModels.mlpOut)
                #expect(s == STRATA_STATUS_OK && bits(y) == bits(want), "batch \(b), \(lastError())")
            }
            strata_session_free(session)  // must not free the workspace (the deallocate above would fault)
            let bytes = buffer.assumingMemoryBound(to: UInt8.self)
            let before = (0..<(guardBytes + misalignment)).allSatisfy { bytes[$0] == 0xA5 }
            let after = ((guardBytes + misalignment + size)..<(size + misalignment + 2 * guardBytes)).allSatisfy { bytes[$0] == 0xA5 }
            #expect(before && after)
        }
    }

    @Test("a memory limit or workspace below one sample is refused at creation with a clear status")
    func budgetBelowOneSample() throws {
        try withLoaded(TestModels.mlp) { loaded in
            let one = workspaceSize(loaded.model, batch: 1)
            var p = strata_session_default_params()
            p.memory_limit = one - 1
            var (status, session) = createSession(loaded.model, p)
            #expect(status == STRATA_STATUS_OUT_OF_MEMORY && session == nil)
            #expect(lastError().contains("memory limit of \(one - 1) bytes") && lastError().contains("\(one) bytes"), "\(lastError())")
            p.memory_limit = one
            (status, session) = createSession(loaded.model, p)
            #expect(status == STRATA_STATUS_OK, "\(lastError())")
            strata_session_free(session)

            var small = [UInt8](repeating: 0, count: one - 64)  // without the alignment slack: may not fit
            p = strata_session_default_params()
            p.workspace_size = 100
            small.withUnsafeMutableBytes { p.workspace = $0.baseAddress }
            (status, session) = createSession(loaded.model, p)
            #expect(status == STRATA_STATUS_BUFFER_TOO_SMALL && session == nil)
            #expect(lastError().contains("workspace of 100 bytes"), "\(lastError())")

            p.workspace = nil
            (status, session) = createSession(loaded.model, p)
            #expect(status == STRATA_STATUS_INVALID_ARGUMENT && session == nil)
            #expect(lastError().contains("params->workspace is NULL"), "\(lastError())")
        }
    }

    @Test("a model whose steps need no session buffers runs any batch in the smallest workspace")
    func noArenaModel() throws {
        try withLoaded { loaded in  // the classifier writes straight into the output
            let size = workspaceSize(loaded.model, batch: 1)
            #expect(size == workspaceSize(loaded.model, batch: 1000))
            var p = strata_session_default_params()
            p.memory_limit = size
            let (status, session) = createSession(loaded.model, p)
            #expect(status == STRATA_STATUS_OK, "\(lastError())")
            let x = (0..<(500 * 4)).map { Float($0 % 9) - 4 }
            let (s, y) = runSession(session, batch: 500, x, outputCount: 1500)
            #expect(s == STRATA_STATUS_OK && y == TestModels.expected(x))
            strata_session_free(session)
        }
    }

    @Test("params from a caller built against the first header (size 24) get the defaults for the new fields")
    func firstVersionParams() throws {
        try withLoaded(TestModels.mlp) { loaded in
            // Garbage where the new fields would be: they must not be read.
            var raw = [UInt8](repeating: 0xFF, count: MemoryLayout<strata_session_params>.size)
            var first = strata_session_default_params()
            first.size = 24
            first.initial_batch = 3
            withUnsafeBytes(of: &first) { for i in 0..<24 { raw[i] = $0[i] } }
            var session: OpaquePointer? = nil
            let status = raw.withUnsafeBytes { strata_session_create(loaded.model, $0.baseAddress!.assumingMemoryBound(to: strata_session_params.self), &session) }
            #expect(status == STRATA_STATUS_OK, "\(lastError())")
            let expected = mlpReference(loaded.model, [257])[0]
            let (s, y) = runSession(session, batch: 257, TestModels.inputs(257 * TestModels.mlpIn, seed: 257), outputCount: 2570)
            #expect(s == STRATA_STATUS_OK && bits(y) == bits(expected), "\(lastError())")
            strata_session_free(session)
        }
    }
}
