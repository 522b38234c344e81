import StrataCore
import StrataFormat
import StrataKernels

/// Elementwise activations (docs/FORMAT.md "Ops"): each op maps to an `Activation`, which runs on
/// its own (`activation_f32_simd8`) or fused into the epilogue of the Linear or Conv before it.
extension PlanBuilder {
    static let activationOps: Set<String> = ["Relu", "Sigmoid", "Tanh", "LeakyRelu", "Gelu", "Silu", "Erf"]

    /// The activation a node of one of `activationOps` computes, from its attributes.
    static func activation(_ r: NodeReader) throws(StrataError) -> Activation {
        switch r.node.op {
        case "Relu": return .relu
        case "Sigmoid": return .sigmoid
        case "Tanh": return .tanh
        case "LeakyRelu":
            let alpha = try r.float("alpha", default: 0.01)
            guard alpha.isFinite else { throw r.fail(.malformed, "attribute 'alpha' is \(alpha); it must be finite") }
            return .leakyRelu(alpha: alpha)
        case "Gelu":
            switch try r.string("approximate", default: "none") {
            case "none": return .gelu
            case "tanh": return .geluTanh
            case let other: throw r.fail(.unsupported, "Gelu approximation '\(other)' is not supported; use \"none\" or \"tanh\"")
            }
        case "Silu": return .silu
        default: return .erf
        }
    }

    mutating func planActivation(_ r: NodeReader) throws(StrataError) -> PlannedOp {
        let x = try r.value(0)
        return try step(r, inputs: [r.node.inputs[0]], .activation(count: x.count, try PlanBuilder.activation(r)),
                        inputDims: x.dims, outputs: [x.dims])
    }
}

extension Session {
    @inline(__always)
    func runActivation(count: Int, _ activation: Activation, _ step: Step, batch: Int, _ ptr: RunBuffers) {
        activation_f32_simd8(x: ptr(step.inputs[0]), y: ptr(step.outputs[0]), count: count * batch, activation: activation)
    }
}
