import StrataCore
import StrataEngine
import StrataFormat
import Testing
import StrataTestSupport

/// A step's cell math splits by batch rows between the pool's threads (`RecurrentCellsJob`). At
/// batch 64 and hidden 64 the per-step work (`batch · hidden · 256` = 2²⁰) is above the size at
/// which a step always splits, so two threads really run the split path; each row's math must not
/// change by a bit — against one thread, against the row run alone, and across the runs of a
/// stateful session.
@Suite("Recurrent cells split between threads")
struct RecurrentThreadsTests {
    static let cases: [RecurrentCase] = [
        .init(op: "RNN", t: 3, i: 5, h: 64), .init(op: "RNN", t: 3, i: 5, h: 64, relu: true),
        .init(op: "GRU", t: 3, i: 5, h: 64), .init(op: "GRU", t: 3, i: 5, h: 64, linearBeforeReset: true),
        .init(op: "LSTM", t: 3, i: 5, h: 64),
    ]

    @Test("1 and 2 threads give the same bits at batch 64, and each row those of the row alone", arguments: cases)
    func threadsKeepTheBits(c: RecurrentCase) throws {
        let (model, _) = try RecurrentTests.build(c)
        let batch = 64
        var rng = SeededGenerator(seed: 63)
        let x = rng.floats(batch * c.t * c.i)
        let one = try Session(model: model, threads: 1).runAll(batch: batch, [x])
        let two = try Session(model: model, threads: 2).runAll(batch: batch, [x])
        for k in one.indices { #expect(bitwiseEqual(one[k][...], two[k][...]), "output \(k)") }
        let single = try Session(model: model, threads: 1)
        for n in [0, 37, 63] {
            let alone = try single.runAll(batch: 1, [Array(x[(n * c.t * c.i)..<((n + 1) * c.t * c.i)])])
            for k in one.indices {
                let count = alone[k].count
                #expect(bitwiseEqual(two[k][(n * count)..<((n + 1) * count)], alone[k][...]), "row \(n) output \(k)")
            }
        }
    }

    @Test("a stateful session's runs give the same bits with 1 and 2 threads", arguments: cases)
    func statefulThreadsKeepTheBits(c: RecurrentCase) throws {
        let (model, _) = try RecurrentTests.build(c)
        let batch = 64
        var rng = SeededGenerator(seed: 64)
        let chunks = (0..<3).map { _ in rng.floats(batch * c.t * c.i) }
        var results: [[[Float]]] = []
        for threads in [1, 2] {
            let session = try Session(model: model, threads: threads)
            try session.setStateful(true)
            results.append(try chunks.flatMap { try session.runAll(batch: batch, [$0]) })
        }
        for k in results[0].indices { #expect(bitwiseEqual(results[0][k][...], results[1][k][...]), "run output \(k)") }
        // the held state carries over: the second run differs from a fresh run of the same chunk
        let fresh = try Session(model: model).runAll(batch: batch, [chunks[1]])
        #expect(!bitwiseEqual(fresh[0][...], results[0][results[0].count / 3][...]))
    }
}
