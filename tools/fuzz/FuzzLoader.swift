// libFuzzer entry point for the .strata loader (tools/fuzz/README.md).
//
// Each input is treated as a whole .strata image: it is validated (with and without CRC checks,
// so mutations reach past the checksums), and when valid it is planned and run on small batches
// so that "valid but odd" graphs are executed too. Any trap, sanitizer report or leak is a bug.
#if canImport(Glibc)
import Glibc
#endif
import StrataCore
import StrataEngine
import StrataFormat

/// Largest buffer (in floats) the harness lets a session allocate: a model whose arena or
/// input/output at batch 3 exceeds this is valid but only planned, not run (a real caller would
/// get OUT_OF_MEMORY; libFuzzer's malloc limit would report it as a finding instead).
let maxFloats = 1 << 22

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    // The CRC-checking path first: it must agree with the unchecked one on everything else.
    let checked = try? ModelReader.read(copying: bytes)
    var options = ModelReader.Options()
    options.verifyChecksums = false
    guard let file = try? ModelReader.read(copying: bytes, options: options) else {
        if checked != nil { fatalError("accepted with CRC checks but rejected without") }
        return 0
    }
    _ = try? Integrity.verify(file)
    guard let model = try? Model(file: file) else { return 0 }
    _ = model.steps.count
    exercise(model)
    return 0
}

/// Runs `model` on batches 1 and 3 with inputs derived from a fixed pattern, when its buffers fit.
func exercise(_ model: Model) {
    let inCounts = model.inputs.map(\.sampleCount), outCounts = model.outputs.map(\.sampleCount)
    for batch in [1, 3] {
        guard let arena = checkedMul(model.arenaFloatsPerSample, batch), arena <= maxFloats,
              (inCounts + outCounts).allSatisfy({ (checkedMul($0, batch) ?? Int.max) <= maxFloats }),
              let session = try? Session(model: model, initialBatch: batch) else { return }
        let pattern: [Float] = [0.5, -1, 2, 0, -0.25, 3, 1e-3, -7]
        let inputs = inCounts.map { n in (0..<(n * batch)).map { pattern[$0 % pattern.count] } }
        let inPtrs = inputs.map { UnsafeMutablePointer<Float>.allocate(capacity: max($0.count, 1)) }
        let outPtrs = outCounts.map { UnsafeMutablePointer<Float>.allocate(capacity: max($0 * batch, 1)) }
        defer { (inPtrs + outPtrs).forEach { $0.deallocate() } }
        for (p, v) in zip(inPtrs, inputs) { p.initialize(from: v, count: v.count) }
        let ins = inPtrs.map { UnsafePointer($0) }
        _ = try? ins.withUnsafeBufferPointer { ib in
            try outPtrs.withUnsafeBufferPointer { ob in try session.run(batch: batch, inputs: ib, outputs: ob) }
        }
    }
    if let st = model.file.selfTest, let arena = checkedMul(model.arenaFloatsPerSample, st.sampleCount), arena <= maxFloats {
        _ = try? model.selfTest()
    }
}
