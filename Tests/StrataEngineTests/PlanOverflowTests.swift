import StrataCore
import StrataEngine
import StrataFormat
import Testing

// Fuzz regressions (tools/fuzz/regressions): graphs whose per-sample buffer sizes overflow must
// be refused when planned, never trap.

@Test func hugeIntermediateBuffersAreRefused() throws {
    for (dims, relus) in [([-1, 1 << 31, 1 << 31], 3), ([-1, 153_092_023, 92_737, 649_657], 2)] {
        var spec = ModelSpec()
        spec.inputs = [ValueInfo(name: "x", dims: dims)]
        spec.outputs = [ValueInfo(name: "y", dims: dims)]
        var last = "x"
        for i in 0..<relus {
            let out = i == relus - 1 ? "y" : "h\(i)"
            spec.nodes.append(Node(op: "Relu", name: "r\(i)", inputs: [last], outputs: [out]))
            last = out
        }
        let file = try ModelWriter.serialize(spec).withUnsafeBytes { try ModelReader.read(copying: $0) }
        expectError(.shapeMismatch, "overflow") { _ = try Model(file: file) }
    }
}
