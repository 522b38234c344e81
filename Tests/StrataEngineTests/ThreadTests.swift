import StrataCore
import StrataEngine
import Testing
import StrataTestSupport

/// Multi-threaded sessions: same bits as one thread, for every thread count, batch size and
/// position in the batch; bad thread counts are refused.
@Suite("Threads")
struct ThreadTests {
    /// A model wide enough that every Linear step crosses the parallel threshold.
    func wideMLP() -> GraphBuilder {
        var g = GraphBuilder(seed: 11, [300])
        var h = g.linear("x", 300, 200, name: "fc1")
        h = g.node("Relu", [h], "relu1")
        h = g.linear(h, 200, 90, name: "fc2")
        h = g.node("Tanh", [h], "tanh")
        g.output(g.linear(h, 90, 10, name: "fc3"), [10])
        return g
    }

    @Test(arguments: [2, 3, 4])
    func resultsAreBitwiseEqualToOneThread(threads: Int) throws {
        let model = try wideMLP().model()
        var rng = SeededGenerator(seed: 5)
        let pool = rng.floats(400 * 300)
        let single = try Session(model: model)
        let multi = try Session(model: model, threads: threads)
        #expect(multi.threads == threads)
        for batch in [1, 2, 5, 6, 7, 13, 64, 97, 400] {
            let input = Array(pool[0..<(batch * 300)])
            let a = try single.run(batch: batch, input), b = try multi.run(batch: batch, input)
            #expect(a.map(\.bitPattern) == b.map(\.bitPattern), "batch \(batch)")
            // And each sample equals the same sample run alone.
            let alone = try single.run(batch: 1, Array(pool[((batch - 1) * 300)..<(batch * 300)]))
            #expect(Array(b.suffix(10)).map(\.bitPattern) == alone.map(\.bitPattern), "last sample of batch \(batch)")
        }
    }

    @Test func manySessionsWithThreadsCanBeCreatedAndFreed() throws {
        let model = try wideMLP().model()
        for _ in 0..<50 {
            let s = try Session(model: model, threads: 3)
            _ = try s.run(batch: 20, [Float](repeating: 0.5, count: 20 * 300))
        }
    }

    @Test(arguments: [0, -1, 257])
    func threadCountOutOfRangeIsRefused(threads: Int) throws {
        let model = try wideMLP().model()
        #expect { try Session(model: model, threads: threads) } throws: { error in
            let e = error as! StrataError
            return e.status == .invalidArgument && e.message.contains("thread count is \(threads)")
        }
    }

    @Test func denormalInputsGiveZeroNotSlowPaths() throws {
        // Tiny inputs are flushed during a run; the caller's FP mode is restored afterwards.
        let model = try wideMLP().model()
        let s = try Session(model: model)
        let tiny = [Float](repeating: Float.leastNonzeroMagnitude, count: 300)
        let zero = [Float](repeating: 0, count: 300)
        #expect(try s.run(batch: 1, tiny).map(\.bitPattern) == s.run(batch: 1, zero).map(\.bitPattern))
        // After the run, this thread still computes denormals (its mode was restored).
        // (The factor is a runtime value, so the compiler cannot fold the product away.)
        let factor = Float(s.threads + 1)
        #expect(Float.leastNonzeroMagnitude * factor > 0)
    }
}
