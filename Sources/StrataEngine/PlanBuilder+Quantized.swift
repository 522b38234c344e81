import StrataCore
import StrataFormat
import StrataKernels

extension PlanBuilder {
    /// A panel16 weight of any dtype as the kernels read it, in place in the mapped file:
    /// the values region, and the scales region after it for int8 and int4 (`QuantizedPanel16`).
    /// An int8 weight in layout panel16k4 runs the dynamic-int8 GEMM (docs/FORMAT.md "Dynamic int8").
    func quantizedWeights(_ t: TensorDescriptor, _ p: UnsafeRawPointer, n: Int, k: Int) throws(StrataError) -> PackedWeights {
        let kind: PackedWeights.Kind
        switch t.dtype {
        case .f32: kind = .f32
        case .f16: kind = .f16
        case .bf16: kind = .bf16
        case .int8: kind = t.tensorLayout == .panel16k4 ? .int8Dynamic : .int8
        case .int4: kind = .int4
        default: throw StrataError(.unsupported, "weight '\(t.name)' has dtype \(t.dtype), which Linear does not support")
        }
        guard let layout = QuantizedPanel16(dtype: t.dtype, layout: t.tensorLayout, n: n, k: k) else {
            throw StrataError(.shapeMismatch, "weight '\(t.name)' \(describeShape(t.dims)) is too large")
        }
        return PackedWeights(kind: kind, values: p, scales: layout.scaleBytes > 0 ? p + layout.scalesOffset : nil)
    }
}
