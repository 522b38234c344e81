import StrataCore
import StrataFormat
import StrataKernels

/// Resize (docs/FORMAT.md "Ops (1.5)"): `[N, C, H, W]` to `[N, C, H', W']`, nearest or bilinear,
/// with PyTorch's coordinate rules (`F.interpolate`, `nn.Upsample`; ONNX `Resize`). Every source
/// index and weight is computed once at load into per-axis tap tables; a run only gathers.
struct ResizePlan {
    var planes: Int, h: Int, w: Int, ho: Int, wo: Int
    var nearest: Bool
    /// Two input rows per output row and their weights (`resize2d_f32`); columns likewise.
    var rowIndex: [Int], rowWeight: [Float], colIndex: [Int], colWeight: [Float]
}

/// The coordinate rule of a Resize axis.
enum ResizeCoordinates {
    /// `src = ⌊dst / scale⌋` (nearest; PyTorch `mode="nearest"`, ONNX asymmetric + floor).
    case asymmetric
    /// `src = max(0, (dst + ½) / scale − ½)` (bilinear, PyTorch `align_corners=False`).
    case halfPixel
    /// `src = dst · (in − 1)/(out − 1)` (PyTorch `align_corners=True`).
    case alignCorners
}

/// The two taps and weights of each of `output` positions of an axis of `input` values, as
/// PyTorch computes them in f32 (`scale` > 0: the given output/input scale, else `output/input`).
func resizeTaps(input: Int, output: Int, scale: Float, rule: ResizeCoordinates, nearest: Bool) -> ([Int], [Float]) {
    var index: [Int] = [], weight: [Float] = []
    index.reserveCapacity(2 * output)
    weight.reserveCapacity(2 * output)
    // PyTorch's compute_scales_value: 1/scale when a scale was given, else input/output.
    let inverse: Float = scale > 0 ? Float(1.0 / Double(scale)) : Float(input) / Float(output)
    for dst in 0..<output {
        if nearest {
            let src = min(Int((Float(dst) * inverse).rounded(.down)), input - 1)
            index += [src, src]
            weight += [1, 0]
            continue
        }
        let real: Float
        switch rule {
        case .alignCorners: real = output > 1 ? Float(input - 1) / Float(output - 1) * Float(dst) : 0
        case .halfPixel, .asymmetric: real = max(inverse * (Float(dst) + 0.5) - 0.5, 0)
        }
        let i0 = min(Int(real), input - 1)
        let lambda1 = min(max(real - Float(i0), 0), 1)
        index += [i0, i0 < input - 1 ? i0 + 1 : i0]
        weight += [1 - lambda1, lambda1]
    }
    return (index, weight)
}

extension PlanBuilder {
    static let resizeOps: Set<String> = ["Resize"]

    mutating func planResize(_ r: NodeReader) throws(StrataError) -> PlannedOp {
        let (x, c, h, w) = try planes(r)
        let sizes = try r.ints("sizes", count: 2, minimum: 1, default: nil)
        let mode = try r.string("mode", default: "nearest")
        let coordinates = try r.string("coordinate_transformation_mode", default: "half_pixel")
        let scaleH = try r.float("scale_h", default: 0), scaleW = try r.float("scale_w", default: 0)
        for s in [scaleH, scaleW] where !(s >= 0 && s.isFinite) {
            throw r.fail(.malformed, "scale \(s) must be a finite number ≥ 0 (0: sizes / input)")
        }
        let nearest: Bool, rule: ResizeCoordinates
        switch (mode, coordinates) {
        case ("nearest", "asymmetric"): (nearest, rule) = (true, .asymmetric)
        case ("linear", "half_pixel"): (nearest, rule) = (false, .halfPixel)
        case ("linear", "align_corners"): (nearest, rule) = (false, .alignCorners)
        case ("nearest", _), ("linear", _):
            throw r.fail(.unsupported, "mode '\(mode)' with coordinate_transformation_mode '\(coordinates)' is not supported (nearest: asymmetric; linear: half_pixel or align_corners)")
        default:
            throw r.fail(.unsupported, "mode '\(mode)' is not supported (nearest or linear)")
        }
        let (ho, wo) = (sizes[0], sizes[1])
        guard checkedMul(ho, wo) != nil, let outCount = checkedMul(c, ho * wo), checkedMul(outCount, 4) != nil else {
            throw r.fail(.shapeMismatch, "the output \(ho)×\(wo) is too large")
        }
        let (rowIndex, rowWeight) = resizeTaps(input: h, output: ho, scale: scaleH, rule: rule, nearest: nearest)
        let (colIndex, colWeight) = resizeTaps(input: w, output: wo, scale: scaleW, rule: rule, nearest: nearest)
        let plan = ResizePlan(planes: c, h: h, w: w, ho: ho, wo: wo, nearest: nearest, rowIndex: rowIndex, rowWeight: rowWeight,
                              colIndex: colIndex, colWeight: colWeight)
        return try step(r, inputs: [r.node.inputs[0]], .resize(plan), inputDims: x.dims, outputs: [[c, ho, wo]])
    }
}

extension Session {
    func runResize(_ p: ResizePlan, _ step: Step, batch: Int, _ ptr: RunBuffers) {
        let x = ptr(step.inputs[0]), y = ptr(step.outputs[0])
        p.rowIndex.withUnsafeBufferPointer { ri in
            p.rowWeight.withUnsafeBufferPointer { rw in
                p.colIndex.withUnsafeBufferPointer { ci in
                    p.colWeight.withUnsafeBufferPointer { cw in
                        resize2d_f32(x: x, y: y, planes: p.planes * batch, h: p.h, w: p.w, ho: p.ho, wo: p.wo,
                                     rowIndex: ri.baseAddress!, rowWeight: rw.baseAddress!, colIndex: ci.baseAddress!,
                                     colWeight: cw.baseAddress!, nearest: p.nearest)
                    }
                }
            }
        }
    }
}
