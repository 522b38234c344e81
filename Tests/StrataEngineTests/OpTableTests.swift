@testable import StrataEngine
import StrataCore
import StrataKernels
import Testing

@Suite("The op table and the op families agree")
struct OpTableTests {
    @Test("every op of the op table is planned by exactly one family, and every family's op is in the table")
    func familiesCoverTheTable() {
        var owners: [String: Int] = [:]
        for family in PlanBuilder.families { for op in family.ops { owners[op, default: 0] += 1 } }
        #expect(Set(owners.keys) == Set(OpSchema.all.keys))
        for (op, count) in owners { #expect(count == 1, "\(op) is planned by \(count) families") }
    }

    @Test("every weight encoding has a GEMM, and QuantizedPanel16 sizes follow the table")
    func encodingsHaveKernels() {
        for e in WeightEncoding.all {
            #expect(PackedWeights.Kind(dtype: e.dtype, layout: e.layout) != nil, "\(e.name)")
            for (n, k) in [(1, 1), (16, 32), (17, 33), (33, 70), (5, 129)] {
                let q = QuantizedPanel16(dtype: e.dtype, layout: e.layout, n: n, k: k)!
                let panels = (n + 15) / 16
                #expect(q.valueBytes == panels * e.panelBytes(k: k))
                #expect(q.scaleBytes == panels * e.scaleBytesPerPanel(k: k))
            }
        }
        #expect(PackedWeights.Kind(dtype: .f16, layout: .panel16k4) == nil)
        #expect(PackedWeights.Kind(dtype: .f32, layout: .rowMajor) == nil)
    }
}
