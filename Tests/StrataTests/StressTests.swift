#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CStrataABI
import Testing

/// Runs per thread of the stress test: `STRATA_STRESS_RUNS` (make test-sanitize sets 10 000, the
/// issue's scale, under ThreadSanitizer), else 250.
let stressRuns: Int = {
    if let v = getenv("STRATA_STRESS_RUNS"), let n = Int(String(cString: v)), n > 0 { return n }
    return 250
}()

@Suite("Stress: one model, 8 threads")
struct StressTests {
    static let batches = [1, 2, 3, 5, 8, 13, 21, 34, 64, 100]

    @Test("8 threads with their own sessions (plain, 2 threads, memory limit, caller workspace) run varied batches; every output is bitwise equal to one thread's")
    func eightThreads() throws {
        try withLoaded(TestModels.mlp) { loaded in
            let expected = Captured(mlpReference(loaded.model, Self.batches))
            let inputs = Captured(Self.batches.map { TestModels.inputs($0 * TestModels.mlpIn, seed: $0) })
            let model = Captured(loaded.model)
            let limit = workspaceSize(loaded.model, batch: 7)
            let workspaceBytes = workspaceSize(loaded.model, batch: 30)
            let threads = 8, runs = stressRuns
            // One slot per thread, written by that thread only (raw memory: no shared Array to race on).
            let failures = UnsafeMutablePointer<Int>.allocate(capacity: threads)
            failures.initialize(repeating: -1, count: threads)
            defer { failures.deallocate() }
            let results = Captured(failures)
            var handles: [pthread_t] = []
            for t in 0..<threads {
                handles.append(startThread {
                    var p = strata_session_default_params()
                    let workspace = UnsafeMutableRawPointer.allocate(byteCount: workspaceBytes, alignment: 16)
                    defer { workspace.deallocate() }
                    switch t % 4 {
                    case 1: p.n_threads = 2
                    case 2: p.memory_limit = limit
                    case 3: p.workspace = workspace; p.workspace_size = workspaceBytes
                    default: break
                    }
                    var session: OpaquePointer? = nil
                    guard strata_session_create(model.value, &p, &session) == STRATA_STATUS_OK else { return }
                    var bad = 0
                    var output = [Float](repeating: 0, count: 100 * TestModels.mlpOut)
                    for i in 0..<runs {
                        let k = (i &* 7 &+ t &* 3) % Self.batches.count, b = Self.batches[k]
                        let status = inputs.value[k].withUnsafeBufferPointer { x in
                            output.withUnsafeMutableBufferPointer { y in
                                strata_session_run(session, Int64(b), x.baseAddress, x.count, y.baseAddress, b * TestModels.mlpOut)
                            }
                        }
                        let want = expected.value[k]
                        if status != STRATA_STATUS_OK || !(0..<want.count).allSatisfy({ output[$0].bitPattern == want[$0].bitPattern }) {
                            bad += 1
                        }
                    }
                    strata_session_free(session)
                    results.value[t] = bad
                })
            }
            for h in handles { pthread_join(h, nil) }
            #expect(Array(UnsafeBufferPointer(start: failures, count: threads)) == [Int](repeating: 0, count: threads), "runs per thread: \(runs)")
        }
    }
}
