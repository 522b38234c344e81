#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CStrataABI
import Testing

@Suite("Threads")
struct ThreadTests {
    @Test("one model serves sessions on several threads at once")
    func sharedModel() throws {
        try withLoaded { loaded in
            let model = Captured(loaded.model)
            let threads = 4
            let results = Captured([Bool](repeating: false, count: threads))
            // Start all threads first, then join them, so the runs overlap.
            var handles: [pthread_t] = []
            for t in 0..<threads {
                handles.append(startThread {
                    var session: OpaquePointer? = nil
                    guard strata_session_create(model.value, nil, &session) == STRATA_STATUS_OK else { return }
                    var ok = true
                    for i in 0..<200 {
                        let batch = 1 + (i + t) % 9
                        let x = (0..<(batch * 4)).map { Float(($0 + i + t) % 13) - 6 }
                        let (s, y) = runSession(session, batch: Int64(batch), x, outputCount: batch * 3)
                        ok = ok && s == STRATA_STATUS_OK && y == TestModels.expected(x)
                    }
                    strata_session_free(session)
                    results.value[t] = ok  // distinct index per thread
                })
            }
            for h in handles { pthread_join(h, nil) }
            #expect(results.value == [Bool](repeating: true, count: threads))
        }
    }
}
