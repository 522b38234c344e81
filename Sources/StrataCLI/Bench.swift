#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import StrataCore
import StrataEngine

/// `strata bench FILE`: median latency, spread and GFLOP/s per batch size, then a per-step
/// profile of the largest batch. Random inputs in [0, 1); one session per batch size, warmed up.
func bench(_ path: String, _ args: [String]) {
    var batches = [1, 16, 256]
    var threads = 1
    var seconds = 1.0
    var json = false
    var i = 0
    while i < args.count {
        if args[i] == "--json" { json = true; i += 1; continue }
        guard i + 1 < args.count else { fail("\(args[i]) needs a value") }
        switch args[i] {
        case "--batch":
            let parsed = args[i + 1].split(separator: ",").compactMap { Int($0) }
            guard !parsed.isEmpty, parsed.allSatisfy({ $0 >= 1 }) else { fail("--batch needs positive integers, e.g. 1,16,256") }
            batches = parsed
        case "--threads":
            guard let n = Int(args[i + 1]), n >= 1 else { fail("--threads needs a positive integer") }
            threads = n
        case "--seconds":
            guard let s = Double(args[i + 1]), s > 0 else { fail("--seconds needs a positive number") }
            seconds = s
        default: fail("unknown option '\(args[i])'\n\(helpText("bench"))")
        }
        i += 2
    }
    let model = load(path)
    guard model.inputs.count == 1, model.outputs.count == 1 else { fail("'bench' handles models with one input and one output") }
    let flops = model.flopsPerSample
    if !json {
        print("model:   \(path) (\(model.parameterCount) parameters, \(Int(flops)) FLOP per sample)")
        print("threads: \(threads)")
        print("  batch   median µs    p10 µs    p90 µs   µs/sample   GFLOP/s")
    }
    var lastProfile: (Profile, Int)? = nil
    var rows: [JSON] = []
    for batch in batches {
        do {
            var rng = SystemRandomNumberGenerator()
            let input = (0..<(batch * model.inputs[0].sampleCount)).map { _ in Float.random(in: 0..<1, using: &rng) }
            var output = [Float](repeating: 0, count: batch * model.outputs[0].sampleCount)
            let session = try Session(model: model, initialBatch: batch, threads: threads)
            var times: [Double] = []
            try input.withUnsafeBufferPointer { ip in
                try output.withUnsafeMutableBufferPointer { op in
                    func once() throws -> Double {
                        let t = Profile.now()
                        try session.run(batch: batch, input: ip.baseAddress!, output: op.baseAddress!)
                        return Double(Profile.now() - t) / 1000
                    }
                    let first = try once()
                    let perCall = max(first, 0.05)
                    let reps = max(5, min(200_000, Int(seconds * 1e6 / perCall)))
                    for _ in 0..<min(reps / 10 + 1, 1000) { _ = try once() }  // warm up
                    times.reserveCapacity(reps)
                    for _ in 0..<reps { times.append(try once()) }
                    if batch == batches.last && !json {
                        session.setProfiling(true)
                        for _ in 0..<min(reps, 1000) { _ = try once() }
                        if let p = session.profile { lastProfile = (p, batch) }
                    }
                }
            }
            times.sort()
            let median = times[times.count / 2], p10 = times[times.count / 10], p90 = times[times.count * 9 / 10]
            rows.append(.object([("batch", .int(batch)), ("median_us", .number(median)), ("p10_us", .number(p10)),
                                 ("p90_us", .number(p90)), ("us_per_sample", .number(median / Double(batch))),
                                 ("gflops", .number(flops * Double(batch) / median / 1000)), ("runs", .int(times.count))]))
            if json { continue }
            print(pad(batch, 7) + pad(median, 12) + pad(p10, 10) + pad(p90, 10) + pad(median / Double(batch), 12)
                  + pad(flops * Double(batch) / median / 1000, 10))
        } catch let e as StrataError { fail("\(e.message) [\(e.status.name)]") } catch { fail("\(error)") }
    }
    if json {
        print(JSON.object([("model", .string(path)), ("parameters", .int(model.parameterCount)),
                           ("flop_per_sample", .number(flops)), ("threads", .int(threads)), ("results", .array(rows))]).text)
        return
    }
    if let (p, batch) = lastProfile { print(profileTable(p, batch: batch), terminator: "") }
}

/// A per-step table: mean µs per run and share of the total.
func profileTable(_ p: Profile, batch: Int) -> String {
    let total = (0..<p.steps.count).reduce(0.0) { $0 + p.meanMicroseconds(step: $1) }
    var out = "profile: batch \(batch), mean of \(p.runs) run(s), \(fixed(total, 2)) µs per run\n"
    for (i, step) in p.steps.enumerated() {
        let us = p.meanMicroseconds(step: i)
        out += pad(us, 12) + " µs " + pad(total > 0 ? 100 * us / total : 0, 6, decimals: 1) + " %  "
            + "\(step.kind) [\(step.nodes.joined(separator: ", "))] \(step.shapes)\n"
    }
    return out
}

/// Right-aligned number in `width` columns.
func pad(_ v: Int, _ width: Int) -> String {
    let s = String(v)
    return String(repeating: " ", count: max(0, width - s.count)) + s
}

/// Right-aligned fixed-point number in `width` columns.
func pad(_ v: Double, _ width: Int, decimals: Int = 2) -> String {
    let s = fixed(v, decimals)
    return String(repeating: " ", count: max(0, width - s.count)) + s
}

/// `v` with `decimals` digits after the point (no Foundation).
func fixed(_ v: Double, _ decimals: Int) -> String {
    guard v.isFinite else { return "\(v)" }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let r = (abs(v) * scale).rounded()
    let whole = Int(r / scale), frac = Int(r.truncatingRemainder(dividingBy: scale))
    let fs = String(frac)
    let sign = v < 0 && r > 0 ? "-" : ""
    return decimals == 0 ? sign + String(whole) : sign + String(whole) + "." + String(repeating: "0", count: decimals - fs.count) + fs
}
