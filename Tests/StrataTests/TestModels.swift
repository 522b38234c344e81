import StrataCore
import StrataFormat

/// Small `.strata` images built with the Swift writer, with weights chosen so that outputs are
/// exact and can be written down by hand.
enum TestModels {
    /// `image [N, 2, 2]` → Flatten → Linear 4→3 (+bias) → Relu → `scores [N, 3]`.
    /// Weights pick x0, x1 and the sum; bias 0, -1, 0.5. See `expected(_:)`.
    static func classifierSpec() -> ModelSpec {
        var spec = ModelSpec()
        spec.metadata = [(key: "producer", value: "StrataTests"), (key: "class_labels", value: "zero\none\ntwo"),
                         (key: "description", value: "")]
        spec.tensors = [
            .init(name: "fc.weight", dims: [3, 4], values: [1, 0, 0, 0, 0, 1, 0, 0, 1, 1, 1, 1]),
            .init(name: "fc.bias", dims: [3], values: [0, -1, 0.5]),
        ]
        spec.inputs = [ValueInfo(name: "image", dims: [-1, 2, 2])]
        spec.outputs = [ValueInfo(name: "scores", dims: [-1, 3])]
        spec.nodes = [
            Node(op: "Flatten", name: "flatten", inputs: ["image"], outputs: ["flat"]),
            Node(op: "Linear", name: "fc", inputs: ["flat", "fc.weight", "fc.bias"], outputs: ["z"]),
            Node(op: "Relu", name: "relu", inputs: ["z"], outputs: ["scores"]),
        ]
        return spec
    }

    static let classifier: [UInt8] = ModelWriter.serialize(classifierSpec())

    /// What the classifier computes, per sample of 4 values.
    static func expected(_ x: [Float]) -> [Float] {
        stride(from: 0, to: x.count, by: 4).flatMap { i -> [Float] in
            [max(x[i], 0), max(x[i + 1] - 1, 0), max(x[i] + x[i + 1] + x[i + 2] + x[i + 3] + 0.5, 0)]
        }
    }

    /// Two samples whose results are exact: [1, 1, 10.5] and [0, 0, 0].
    static let input: [Float] = [1, 2, 3, 4, -1, -2, 0, 0]

    /// `x [N, 3]` → `y = Relu(x)` and `x` itself: two outputs.
    static let twoOutputs: [UInt8] = {
        var spec = ModelSpec()
        spec.inputs = [ValueInfo(name: "x", dims: [-1, 3])]
        spec.outputs = [ValueInfo(name: "y", dims: [-1, 3]), ValueInfo(name: "x", dims: [-1, 3])]
        spec.nodes = [Node(op: "Relu", name: "relu", inputs: ["x"], outputs: ["y"])]
        return ModelWriter.serialize(spec)
    }()

    /// `x [N, 4]` → Linear 4→3 → Softmax → `p [N, 3]`: the Linear's output needs session
    /// buffers (16 floats per sample), unlike the classifier whose steps write straight to the output.
    static let withBuffers: [UInt8] = {
        var spec = classifierSpec()
        spec.inputs = [ValueInfo(name: "x", dims: [-1, 4])]
        spec.outputs = [ValueInfo(name: "p", dims: [-1, 3])]
        spec.nodes = [
            Node(op: "Linear", name: "fc", inputs: ["x", "fc.weight", "fc.bias"], outputs: ["z"]),
            Node(op: "Softmax", name: "softmax", inputs: ["z"], outputs: ["p"]),
        ]
        return ModelWriter.serialize(spec)
    }()

    /// `x [N, 24]` → Linear 24→40 → Relu → Linear 40→40 → Tanh → Linear 40→10 → Softmax →
    /// `p [N, 10]`, with fixed pseudo-random weights: session buffers, several steps and rounding
    /// everywhere, for bitwise comparisons (chunks, threads, workspaces). 4 plan steps.
    static let mlp: [UInt8] = {
        var spec = ModelSpec()
        var state: UInt32 = 12345
        func values(_ n: Int) -> [Float] {
            (0..<n).map { _ in
                state = state &* 1_664_525 &+ 1_013_904_223
                return Float(Int32(bitPattern: state >> 8) - (1 << 23)) / Float(1 << 23) * 0.4
            }
        }
        spec.tensors = [
            .init(name: "fc1.weight", dims: [40, 24], values: values(960)), .init(name: "fc1.bias", dims: [40], values: values(40)),
            .init(name: "fc2.weight", dims: [40, 40], values: values(1600)), .init(name: "fc2.bias", dims: [40], values: values(40)),
            .init(name: "fc3.weight", dims: [10, 40], values: values(400)), .init(name: "fc3.bias", dims: [10], values: values(10)),
        ]
        spec.inputs = [ValueInfo(name: "x", dims: [-1, 24])]
        spec.outputs = [ValueInfo(name: "p", dims: [-1, 10])]
        spec.nodes = [
            Node(op: "Linear", name: "fc1", inputs: ["x", "fc1.weight", "fc1.bias"], outputs: ["h1"]),
            Node(op: "Relu", name: "relu", inputs: ["h1"], outputs: ["a1"]),
            Node(op: "Linear", name: "fc2", inputs: ["a1", "fc2.weight", "fc2.bias"], outputs: ["h2"]),
            Node(op: "Tanh", name: "tanh", inputs: ["h2"], outputs: ["a2"]),
            Node(op: "Linear", name: "fc3", inputs: ["a2", "fc3.weight", "fc3.bias"], outputs: ["z"]),
            Node(op: "Softmax", name: "softmax", inputs: ["z"], outputs: ["p"]),
        ]
        return ModelWriter.serialize(spec)
    }()

    /// Inputs and outputs per sample of `mlp`.
    static let mlpIn = 24, mlpOut = 10

    /// `x [N, 4]` → one elementwise `op` (Relu, Sigmoid, Tanh, Identity) → `y [N, 4]`.
    static func elementwise(_ op: String) -> [UInt8] {
        var spec = ModelSpec()
        spec.inputs = [ValueInfo(name: "x", dims: [-1, 4])]
        spec.outputs = [ValueInfo(name: "y", dims: [-1, 4])]
        spec.nodes = [Node(op: op, name: "act", inputs: ["x"], outputs: ["y"])]
        return ModelWriter.serialize(spec)
    }

    /// `count` deterministic floats in about -2…2 (for `mlp` inputs).
    static func inputs(_ count: Int, seed: Int = 0) -> [Float] {
        (0..<count).map { Float(((($0 &+ seed &* 7919) &* 2_654_435_761) >> 7) % 4001) / 1000 - 2 }
    }
}
