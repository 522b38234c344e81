import StrataCore
import StrataFormat
import StrataKernels

/// Elementwise activations (docs/FORMAT.md "Ops"): each op maps to an `Activation`, which runs on
/// its own (`activation_f32_simd8`) or fused into the epilogue of the Linear or Conv before it.
extension PlanBuilder {
    static let activationOps: Set<String> = ["Relu", "Sigmoid", "Tanh", "LeakyRelu", "Gelu", "Silu", "Erf",
                                             "Clip", "HardSigmoid", "HardSwish",
                                             "Elu", "Selu", "Softplus", "Mish", "Abs", "Neg", "Sqrt", "Pow", "Exp",
                                             "Log", "Reciprocal"]

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
        case "Clip":
            let lo = try r.float("min", default: -.infinity), hi = try r.float("max", default: .infinity)
            guard !lo.isNaN, !hi.isNaN else {
                throw r.fail(.malformed, "Clip bounds min \(lo), max \(hi): each must be a number (not NaN)")
            }
            return .clip(min: lo, max: hi)
        case "HardSigmoid":
            let alpha = try r.float("alpha", default: 0.2), beta = try r.float("beta", default: 0.5)
            guard alpha.isFinite, beta.isFinite else {
                throw r.fail(.malformed, "HardSigmoid alpha \(alpha), beta \(beta): each must be finite")
            }
            return .hardSigmoid(alpha: alpha, beta: beta)
        case "HardSwish": return .hardSwish
        case "Elu":
            let alpha = try r.float("alpha", default: 1)
            guard alpha.isFinite else { throw r.fail(.malformed, "attribute 'alpha' is \(alpha); it must be finite") }
            return .elu(alpha: alpha)
        case "Selu": return .selu
        case "Softplus":
            let beta = try r.float("beta", default: 1), threshold = try r.float("threshold", default: .infinity)
            guard beta.isFinite, beta != 0, !threshold.isNaN else {
                throw r.fail(.malformed, "Softplus beta \(beta), threshold \(threshold): beta must be finite and not 0, threshold a number")
            }
            return .softplus(beta: beta, threshold: threshold)
        case "Mish": return .mish
        case "Abs": return .abs
        case "Neg": return .neg
        case "Sqrt": return .sqrt
        case "Pow":
            guard case .float(let e)? = r.node.attribute("exponent"), e.isFinite else {
                throw r.fail(.malformed, "Pow needs a finite float attribute 'exponent'")
            }
            return .pow(exponent: e)
        case "Exp": return .exp
        case "Log": return .log
        case "Reciprocal": return .reciprocal
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
