import StrataCore
import StrataEngine
import StrataFormat
import Testing

/// Weights packed in the file (layout panel16) are used in place and give the same bits as
/// row-major weights packed at load.
@Suite("Packed weights in the file")
struct PackedLayoutTests {
    @Test func panel16FileGivesIdenticalResults() throws {
        let g = mnistMLP()
        var packedSpec = g.spec
        for i in packedSpec.tensors.indices where packedSpec.tensors[i].dims.count == 2 {
            packedSpec.tensors[i].layout = .panel16
        }
        let packed = try ModelWriter.serialize(packedSpec).withUnsafeBytes { try Model(file: ModelReader.read(copying: $0)) }
        let plain = try g.model()
        let x = images(9)
        let a = try Session(model: plain).run(batch: 9, x)
        let b = try Session(model: packed).run(batch: 9, x)
        #expect(a.map(\.bitPattern) == b.map(\.bitPattern))
        #expect(packed.tensors.filter { $0.layout == .panel16 }.count == 3)
    }

    @Test func packedTensorOutsideLinearIsRefused() throws {
        var g = GraphBuilder(seed: 1, [4])
        let c = g.tensor("c", [2, 4])
        g.spec.tensors[g.spec.tensors.count - 1].layout = .panel16
        g.output(g.node("Add", ["x", c], "y"), [4])
        g.spec.inputs[0].dims = [-1, 2, 4]
        g.spec.outputs[0].dims = [-1, 2, 4]
        #expect { try g.model() } throws: { error in
            let e = error as! StrataError
            return e.status == .unsupported && e.message.contains("only a Linear weight may be packed")
        }
    }
}
