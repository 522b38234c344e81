import Testing
@testable import StrataCore
@testable import StrataFormat

/// Layouts 1 (panel16) and 2 (panel16k4): stored sizes, round trip, and the reader's rules for them.
@Suite("Tensor layouts")
struct LayoutTests {
    @Test func storedElementCounts() {
        #expect(TensorLayout.rowMajor.storedElements(dims: [3, 5]) == 15)
        #expect(TensorLayout.panel16.storedElements(dims: [3, 5]) == 80)
        #expect(TensorLayout.panel16.storedElements(dims: [16, 5]) == 80)
        #expect(TensorLayout.panel16.storedElements(dims: [17, 5]) == 160)
        #expect(TensorLayout.panel16.storedElements(dims: [5]) == nil)
        #expect(TensorLayout.panel16.storedElements(dims: [1 << 40, 1 << 30]) == nil)
        #expect(TensorLayout(rawValue: 9).storedElements(dims: [1]) == nil)
    }

    func packedSpec(rows: Int = 3) -> ModelSpec {
        var s = Fixtures.mlpSpec()
        s.tensors[0].layout = .panel16  // fc1.weight [3, 4]
        return s
    }

    @Test func packedWeightRoundTripsAndIsStoredPacked() throws {
        let bytes = ModelWriter.serialize(packedSpec())
        let file = try Fixtures.read(bytes)
        let t = file.tensors[0]
        #expect(t.tensorLayout == .panel16)
        #expect(t.dims == [3, 4])
        #expect(t.byteCount == 16 * 4 * 4)
        let stored = Array(file.data(of: t).bindMemory(to: Float.self))
        let w = Fixtures.mlpSpec().tensors[0].values
        for row in 0..<3 { for k in 0..<4 { #expect(stored[k * 16 + row] == w[row * 4 + k]) } }
        #expect(stored[3] == 0 && stored[15] == 0)  // padding rows are zero
    }

    @Test func packedLayoutOnANonMatrixIsRejected() {
        var s = Fixtures.mlpSpec()
        s.tensors[1].layout = .panel16  // fc1.bias, rank 1
        expectRejected(ModelWriter.serialize(s), .malformed, "needs a rank-2 f32, f16, bf16, int8 or int4 tensor")
    }

    @Test func packedSizeMismatchIsRejected() {
        var v = ModelWriter.serialize(packedSpec())
        let tensors = Fixtures.section(v, .tensors)
        Fixtures.put64(&v, tensors.offset + 54, 48)  // byte size of fc1.weight as if row-major
        Fixtures.refreshCRCs(&v)
        expectRejected(v, .malformed, "in layout panel16 needs 256")
    }

    @Test func unknownLayoutNamesTheKnownOnes() {
        var v = Fixtures.valid()
        let tensors = Fixtures.section(v, .tensors)
        Fixtures.put32(&v, tensors.offset + 22, 3)
        Fixtures.refreshCRCs(&v)
        expectRejected(v, .unsupported, "knows 0 (row-major), 1 (panel16) and 2 (panel16k4)")
    }

    /// The layout table of docs/FORMAT.md lists exactly the layouts this library knows, by id and name.
    @Test func layoutTableMatchesFormatMD() throws {
        let rows = try formatTable("### Tensor layouts")
        let doc = Dictionary(uniqueKeysWithValues: rows.map { (UInt32($0[0])!, String($0[1].split(separator: " ")[0])) })
        #expect(doc == Dictionary(uniqueKeysWithValues: TensorLayout.all.map { ($0.rawValue, $0.description) }))
    }

    /// Layout 2 (panel16k4, since 1.3): int8 only; its stored size pads k to a multiple of 4.
    @Test func panel16k4IsInt8Only() {
        #expect(TensorLayout.panel16k4.storedElements(dims: [17, 5]) == 2 * 8 * 16)
        #expect(TensorLayout.panel16k4.storedElements(dims: [16, 4]) == 64)
        #expect(TensorLayout.panel16k4.storedElements(dims: [5]) == nil)
        #expect(TensorLayout.panel16k4.description == "panel16k4")
        var v = Fixtures.valid()
        let tensors = Fixtures.section(v, .tensors)
        Fixtures.put32(&v, tensors.offset + 22, 2)  // fc1.weight, f32
        Fixtures.refreshCRCs(&v)
        expectRejected(v, .malformed, "has layout panel16k4 (dynamic int8), which holds only int8 weights, not f32")
    }
}
