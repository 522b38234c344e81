import CStrataABI
import Testing

/// Misuse of the C API that the other suites do not cover (NullPointerTests, HostileArgumentTests,
/// SessionTests cover NULLs, hostile sizes, zero/negative/over-2^31 batches, wrong counts,
/// runs after failed runs and a model freed before its session).
@Suite("Misuse: non-finite inputs, huge batches, failures in a row")
struct MisuseTests {
    @Test("NaN and ±Inf inputs propagate through elementwise ops as IEEE 754 says; no crash",
          arguments: [
            ("Identity", [Float.nan, .infinity, -.infinity, 1], [Float.nan, .infinity, -.infinity, 1]),
            ("Relu", [.nan, .infinity, -.infinity, -1], [.nan, .infinity, 0, 0]),
            ("Sigmoid", [.nan, .infinity, -.infinity, 0], [.nan, 1, 0, 0.5]),
            ("Tanh", [.nan, .infinity, -.infinity, 0], [.nan, 1, -1, 0]),
          ] as [(String, [Float], [Float])])
    func nonFiniteElementwise(op: String, x: [Float], expected: [Float]) throws {
        try withLoaded(TestModels.elementwise(op)) { loaded in
            // 3 samples: the non-finite one in the middle of finite ones (SIMD lanes mix them).
            let finite: [Float] = [0.25, -0.5, 2, -3]
            let (status, y) = runSession(loaded.session, batch: 3, finite + x + finite, outputCount: 12)
            #expect(status == STRATA_STATUS_OK)
            let middle = Array(y[4..<8])
            for (got, want) in zip(middle, expected) {
                #expect(want.isNaN ? got.isNaN : got == want, "\(op): got \(middle), want \(expected)")
            }
            let (_, alone) = runSession(loaded.session, batch: 1, finite, outputCount: 4)
            #expect(bits(Array(y[0..<4])) == bits(alone) && bits(Array(y[8..<12])) == bits(alone))
        }
    }

    @Test("a NaN or Inf sample through Linear and Softmax stays in its own row: the others are unchanged bit for bit",
          arguments: [Float.nan, .infinity, -.infinity, .greatestFiniteMagnitude])
    func nonFiniteInOneRow(value: Float) throws {
        try withLoaded(TestModels.mlp) { loaded in
            let n = TestModels.mlpIn, b = 9
            var x = TestModels.inputs(b * n, seed: b)
            x[4 * n + 3] = value
            let (status, y) = runSession(loaded.session, batch: Int64(b), x, outputCount: b * 10)
            #expect(status == STRATA_STATUS_OK)
            let clean = mlpReference(loaded.model, [b])[0]
            for row in 0..<b where row != 4 {
                #expect(bits(Array(y[(row * 10)..<(row * 10 + 10)])) == bits(Array(clean[(row * 10)..<(row * 10 + 10)])), "row \(row)")
            }
        }
    }

    @Test("a batch ≤ 2^31-1 whose buffers cannot be allocated is OUT_OF_MEMORY before any input is read; the session then runs normally")
    func hugeBatchOutOfMemory() throws {
        try withLoaded(TestModels.mlp) { loaded in
            let batch = Int64(Int32.max)  // × ~160 bytes of buffers per sample ≈ 344 GB
            var x: [Float] = [1], y: [Float] = [0]
            // The counts claim a buffer of the right size; allocation must fail before it is touched.
            let status = strata_session_run(loaded.session, batch, &x, Int(batch) * TestModels.mlpIn, &y, Int(batch) * TestModels.mlpOut)
            #expect(status == STRATA_STATUS_OUT_OF_MEMORY)
            #expect(lastError().contains("cannot allocate") && lastError().contains("batch \(batch)"), "\(lastError())")
            let (s, out) = runSession(loaded.session, batch: 3, TestModels.inputs(3 * TestModels.mlpIn, seed: 3), outputCount: 30)
            #expect(s == STRATA_STATUS_OK && bits(out) == bits(mlpReference(loaded.model, [3])[0]))
        }
    }

    @Test("many different failures in a row leave the session and the thread's last error consistent")
    func failuresInARow() throws {
        try withLoaded { loaded in
            var x: [Float] = TestModels.input, y = [Float](repeating: 0, count: 6)
            let calls: [(Int32, String, () -> Int32)] = [
                (STRATA_STATUS_INVALID_ARGUMENT, "batch is 0", { strata_session_run(loaded.session, 0, &x, 8, &y, 6) }),
                (STRATA_STATUS_SHAPE_MISMATCH, "input_count is 7", { strata_session_run(loaded.session, 2, &x, 7, &y, 6) }),
                (STRATA_STATUS_BUFFER_TOO_SMALL, "output_count is 5", { strata_session_run(loaded.session, 2, &x, 8, &y, 5) }),
                (STRATA_STATUS_NULL_POINTER, "'input'", { strata_session_run(loaded.session, 2, nil, 8, &y, 6) }),
                (STRATA_STATUS_INVALID_ARGUMENT, "too large", { strata_session_run(loaded.session, .max, &x, 8, &y, 6) }),
            ]
            for _ in 0..<3 {
                for (want, message, call) in calls {
                    #expect(call() == want)
                    #expect(lastError().contains(message), "\(lastError())")
                }
                #expect(strata_session_run(loaded.session, 2, &x, 8, &y, 6) == STRATA_STATUS_OK)
                #expect(y == [1, 1, 10.5, 0, 0, 0])
            }
        }
    }
}
