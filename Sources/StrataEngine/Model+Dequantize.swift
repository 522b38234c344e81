import StrataCore
import StrataFormat
import StrataKernels

extension Model {
    /// The values of a stored tensor as row-major f32, dequantized exactly as the kernels see
    /// them (docs/FORMAT.md "Quantized weights"); the CLI's `strata tensor` prints them.
    /// - Throws: `invalidArgument` when no tensor has that name.
    public func dequantizedTensor(named name: String) throws(StrataError) -> [Float] {
        guard let t = file.tensor(named: name) else {
            throw StrataError(.invalidArgument, "no tensor named '\(name)'")
        }
        let raw = UnsafeRawPointer(file.data(of: t).baseAddress!)
        if t.tensorLayout == .rowMajor {
            return Array(UnsafeBufferPointer(start: raw.assumingMemoryBound(to: Float.self), count: t.elementCount))
        }
        let (n, k) = (t.dims[0], t.dims[1])
        let weights = try PlanBuilder.inPlaceWeights(t, raw, n: n, k: k)
        return [Float](unsafeUninitializedCapacity: n * k) { buffer, count in
            dequantize_panel16_reference(weights, n: n, k: k, out: buffer.baseAddress!)
            count = n * k
        }
    }
}
