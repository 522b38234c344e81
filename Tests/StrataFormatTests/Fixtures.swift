@testable import StrataCore
@testable import StrataFormat

/// Builders for valid images and helpers to corrupt them precisely.
enum Fixtures {
    /// A small valid MLP image: 4 → 3 (Linear+bias) → Relu → 3 → 2 (Linear, no bias).
    static func mlpSpec() -> ModelSpec {
        var spec = ModelSpec()
        spec.metadata = [("producer", "strata tests"), ("class_labels", "no\nyes")]
        spec.tensors = [
            .init(name: "fc1.weight", dims: [3, 4], values: (0..<12).map { Float($0) / 10 - 0.5 }),
            .init(name: "fc1.bias", dims: [3], values: [0.1, -0.2, 0.3]),
            .init(name: "fc2.weight", dims: [2, 3], values: [1, -1, 0.5, -0.5, 2, 0.25]),
        ]
        spec.inputs = [ValueInfo(name: "x", dims: [-1, 4])]
        spec.outputs = [ValueInfo(name: "logits", dims: [-1, 2])]
        spec.nodes = [
            Node(op: "Linear", name: "fc1", inputs: ["x", "fc1.weight", "fc1.bias"], outputs: ["h"]),
            Node(op: "Relu", name: "relu", inputs: ["h"], outputs: ["r"]),
            Node(op: "Linear", name: "fc2", inputs: ["r", "fc2.weight", ""], outputs: ["logits"]),
        ]
        return spec
    }

    static func valid() -> [UInt8] { ModelWriter.serialize(mlpSpec()) }

    static func read(_ bytes: [UInt8], verify: Bool = true) throws -> ModelFile {
        var o = ModelReader.Options()
        o.verifyChecksums = verify
        return try bytes.withUnsafeBytes { try ModelReader.read(copying: $0, options: o) }
    }

    /// Offset and size of section `kind` per the section table.
    static func section(_ bytes: [UInt8], _ kind: SectionKind) -> (offset: Int, size: Int, entry: Int) {
        let count = Int(u32(bytes, 24))
        for i in 0..<count where u32(bytes, 64 + 32 * i) == kind.rawValue {
            return (Int(u64(bytes, 64 + 32 * i + 8)), Int(u64(bytes, 64 + 32 * i + 16)), 64 + 32 * i)
        }
        fatalError("no section \(kind)")
    }

    /// Recomputes every section CRC and then the header CRC, so a mutation reaches deeper checks.
    static func refreshCRCs(_ bytes: inout [UInt8]) {
        let count = Int(u32(bytes, 24))
        for i in 0..<min(count, 64) {
            let e = 64 + 32 * i
            guard e + 32 <= bytes.count else { break }
            let off64 = u64(bytes, e + 8), size64 = u64(bytes, e + 16)
            guard off64 <= UInt64(bytes.count), size64 <= UInt64(bytes.count) else { continue }
            let off = Int(off64), size = Int(size64)
            guard off + size <= bytes.count else { continue }
            put32(&bytes, e + 24, CRC32.checksum(Array(bytes[off..<(off + size)])))
        }
        put32(&bytes, 60, CRC32.checksum(Array(bytes[0..<60])))
    }

    static func u32(_ b: [UInt8], _ at: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 | UInt32(b[at + $1]) << (8 * $1) }
    }
    static func u64(_ b: [UInt8], _ at: Int) -> UInt64 {
        (0..<8).reduce(0) { $0 | UInt64(b[at + $1]) << (8 * $1) }
    }
    static func put32(_ b: inout [UInt8], _ at: Int, _ v: UInt32) {
        for i in 0..<4 { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * i)) }
    }
    static func put64(_ b: inout [UInt8], _ at: Int, _ v: UInt64) {
        for i in 0..<8 { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * i)) }
    }

    /// Serializes a spec after `edit`, for graph-level rule tests.
    static func with(_ edit: (inout ModelSpec) -> Void) -> [UInt8] {
        var s = mlpSpec()
        edit(&s)
        return ModelWriter.serialize(s)
    }
}

/// Asserts that reading `bytes` fails with `status` and a message containing `fragment`.
func expectRejected(_ bytes: [UInt8], _ status: Status, _ fragment: String, verify: Bool = true,
                    sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        _ = try Fixtures.read(bytes, verify: verify)
        Issue.record("expected \(status.name) containing '\(fragment)', but the file was accepted", sourceLocation: sourceLocation)
    } catch let e as StrataError {
        #expect(e.status == status, "message: \(e.message)", sourceLocation: sourceLocation)
        #expect(e.message.contains(fragment), "message: \(e.message)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
    }
}

import StrataCore
import Testing
