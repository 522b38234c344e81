import StrataCore
import StrataFormat
import StrataKernels

/// Pad (docs/FORMAT.md "Ops (1.5)"): `[N, C, H, W]` padded on its two spatial dims with a
/// constant, the mirror image (reflect) or the edge value (PyTorch `F.pad`, `ZeroPad2d`,
/// `ConstantPad2d`, `ReflectionPad2d`, `ReplicationPad2d`; ONNX `Pad` on the last two axes).
struct PadPlan {
    var planes: Int, h: Int, w: Int
    var top: Int, left: Int, bottom: Int, right: Int
    var mode: PadMode
    var value: Float
}

extension PlanBuilder {
    static let padOps: Set<String> = ["Pad"]

    mutating func planPad(_ r: NodeReader) throws(StrataError) -> PlannedOp {
        let (x, c, h, w) = try planes(r)
        let pads = try r.ints("pads", count: 4, minimum: 0, default: nil)
        let modeName = try r.string("mode", default: "constant")
        let mode: PadMode
        switch modeName {
        case "constant": mode = .constant
        case "reflect": mode = .reflect
        case "edge": mode = .edge
        default: throw r.fail(.unsupported, "mode '\(modeName)' is not supported (constant, reflect or edge)")
        }
        let value = try r.float("value", default: 0)
        if mode == .reflect {
            guard pads[0] < h, pads[2] < h, pads[1] < w, pads[3] < w else {
                throw r.fail(.shapeMismatch, "reflect pads \(describeList(pads)) must each be smaller than the padded dimension (\(h)×\(w)): the mirror image does not repeat the edge")
            }
        }
        guard let ho = checkedAdd(h, pads[0] + pads[2]), let wo = checkedAdd(w, pads[1] + pads[3]) else {
            throw r.fail(.shapeMismatch, "the padded shape overflows")
        }
        let plan = PadPlan(planes: c, h: h, w: w, top: pads[0], left: pads[1], bottom: pads[2], right: pads[3], mode: mode,
                           value: value)
        return try step(r, inputs: [r.node.inputs[0]], .pad(plan), inputDims: x.dims, outputs: [[c, ho, wo]])
    }
}

extension Session {
    func runPad(_ p: PadPlan, _ step: Step, batch: Int, _ ptr: RunBuffers) {
        pad2d_f32(x: ptr(step.inputs[0]), y: ptr(step.outputs[0]), planes: p.planes * batch, h: p.h, w: p.w, top: p.top,
                  left: p.left, bottom: p.bottom, right: p.right, mode: p.mode, value: p.value)
    }
}
