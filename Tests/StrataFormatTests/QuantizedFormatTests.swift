import Testing
@testable import StrataCore
@testable import StrataFormat

/// Rows of the Markdown table that follows the line starting with `heading` in docs/FORMAT.md.
func formatTable(_ heading: String) throws -> [[String]] {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)  // Tests/StrataFormatTests/QuantizedFormatTests.swift
    let bytes = try ModelBytes.mapping(path: parts.joined(separator: "/") + "/docs/FORMAT.md")
    let lines = String(decoding: bytes.buffer, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
    guard let start = lines.firstIndex(where: { $0.hasPrefix(heading) }) else { return [] }
    var rows: [[String]] = []
    for line in lines[(start + 1)...] {
        if line.hasPrefix("|") {
            rows.append(line.split(separator: "|").map { String($0).trimmingCharacters() })
        } else if !rows.isEmpty { break }
    }
    return rows.dropFirst().filter { !$0.joined().allSatisfy { "-: ".contains($0) } }
}

extension String {
    func trimmingCharacters() -> String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}

/// The Swift dtype table equals docs/FORMAT.md's (which the converter's test pins format.py to),
/// and `QuantizedPanel16` gives the byte sizes of "Quantized weights".
@Suite struct QuantizedFormatTests {
    @Test func dtypeTableMatchesFormatMD() throws {
        let rows = try formatTable("### DType table")
        var doc: [UInt32: DType.Info] = [:]
        for r in rows where r[0] != "0" {
            doc[UInt32(r[0])!] = DType.Info(name: r[1], blockSize: Int(r[2])!, bytesPerBlock: Int(r[3])!)
        }
        #expect(doc.count == 5)
        #expect(doc == DType.table)
        #expect([DType.f16, .bf16, .int8, .int4].allSatisfy(\.isWeightOnly) && !DType.f32.isWeightOnly)
    }

    @Test(arguments: [(1, 1), (10, 64), (16, 32), (17, 33), (130, 784)])
    func byteSizesFollowTheDocumentedRule(n: Int, k: Int) {
        let p = (n + 15) / 16, kp = (k + 31) / 32 * 32
        #expect(QuantizedPanel16(dtype: .f32, n: n, k: k)?.totalBytes == p * k * 64)
        #expect(QuantizedPanel16(dtype: .f16, n: n, k: k)?.totalBytes == p * k * 32)
        #expect(QuantizedPanel16(dtype: .bf16, n: n, k: k)?.totalBytes == p * k * 32)
        let i8 = QuantizedPanel16(dtype: .int8, n: n, k: k)!
        #expect(i8.valueBytes == p * k * 16 && i8.scalesOffset == (p * k * 16 + 63) / 64 * 64 && i8.scaleBytes == p * 64)
        let i4 = QuantizedPanel16(dtype: .int4, n: n, k: k)!
        #expect(i4.storedK == kp && i4.valueBytes == p * kp * 8 && i4.scalesOffset == (p * kp * 8 + 63) / 64 * 64)
        #expect(i4.scaleBytes == p * (kp / 32) * 32)
        let k4 = QuantizedPanel16(dtype: .int8, layout: .panel16k4, n: n, k: k)!, kq = (k + 3) / 4
        #expect(k4.storedK == 4 * kq && k4.valueBytes == p * kq * 64 && k4.scalesOffset == (p * kq * 64 + 63) / 64 * 64)
        #expect(k4.scaleBytes == p * 64)
        #expect(QuantizedPanel16(dtype: .f32, layout: .panel16k4, n: n, k: k) == nil)
        #expect(QuantizedPanel16(dtype: .int4, layout: .panel16k4, n: n, k: k) == nil)
        #expect(QuantizedPanel16(dtype: DType(rawValue: 9), n: n, k: k) == nil)
    }

    @Test func overflowingShapesHaveNoLayout() {
        #expect(QuantizedPanel16(dtype: .int4, n: 1 << 32, k: 1 << 32) == nil)
        #expect(QuantizedPanel16(dtype: .int8, n: Int.max, k: 2) == nil)
    }
}
