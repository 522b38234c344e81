// Writes seed files for the fuzz corpus with the Swift writer (ModelWriter): small valid models
// covering every op, odd-but-valid graphs (unused tensors, zero-element tensors, huge declared
// dims, aliases as outputs) and a self-test section. Usage: seed-writer OUT_DIR
#if canImport(Glibc)
import Glibc
#endif
import StrataCore
import StrataFormat

@main
enum SeedWriter {
    static func main() throws {
        let args = CommandLine.arguments
        guard args.count == 2 else { print("usage: seed-writer OUT_DIR"); exit(2) }
        for (name, spec) in seeds() {
            try ModelWriter.write(ModelWriter.serialize(spec), to: args[1] + "/swift-" + name + ".strata")
        }
    }

    static func tensor(_ name: String, _ dims: [Int]) -> ModelSpec.Tensor {
        let n = dims.reduce(1, *)
        return .init(name: name, dims: dims, values: (0..<n).map { Float($0 % 7) / 7 - 0.4 })
    }

    static func seeds() -> [(String, ModelSpec)] {
        var out: [(String, ModelSpec)] = []
        var mlp = ModelSpec()
        mlp.metadata = [("producer", "seed-writer"), ("class_labels", "a\nb")]
        mlp.tensors = [tensor("w1", [3, 4]), tensor("b1", [3]), tensor("w2", [2, 3]), tensor("shift", [3])]
        mlp.inputs = [ValueInfo(name: "x", dims: [-1, 2, 2])]
        mlp.outputs = [ValueInfo(name: "y", dims: [-1, 2])]
        mlp.nodes = [
            Node(op: "Flatten", name: "f", inputs: ["x"], outputs: ["h0"], attributes: [("axis", .int(1))]),
            Node(op: "Linear", name: "fc1", inputs: ["h0", "w1", "b1"], outputs: ["h1"]),
            Node(op: "Relu", name: "r", inputs: ["h1"], outputs: ["h2"]),
            Node(op: "Add", name: "res", inputs: ["h2", "h1"], outputs: ["h3"]),
            Node(op: "Add", name: "sh", inputs: ["shift", "h3"], outputs: ["h4"]),
            Node(op: "Sigmoid", name: "s", inputs: ["h4"], outputs: ["h5"]),
            Node(op: "Tanh", name: "t", inputs: ["h5"], outputs: ["h6"]),
            Node(op: "Identity", name: "i", inputs: ["h6"], outputs: ["h7"]),
            Node(op: "Reshape", name: "rs", inputs: ["h7"], outputs: ["h8"], attributes: [("shape", .ints([0, -1]))]),
            Node(op: "Linear", name: "fc2", inputs: ["h8", "w2", ""], outputs: ["h9"]),
            Node(op: "LogSoftmax", name: "ls", inputs: ["h9"], outputs: ["y"], attributes: [("axis", .int(-1))]),
        ]
        out.append(("every-op", mlp))

        var odd = ModelSpec()
        odd.tensors = [tensor("unused", [5]), tensor("empty", [0, 3]), tensor("w", [2, 1])]
        odd.inputs = [ValueInfo(name: "x", dims: [-1, 1]), ValueInfo(name: "huge", dims: [-1, 1 << 32, 1 << 20])]
        odd.outputs = [ValueInfo(name: "a", dims: [-1, 2]), ValueInfo(name: "b", dims: [-1, 2]),
                       ValueInfo(name: "x", dims: [-1, 1])]
        odd.nodes = [
            Node(op: "Linear", name: "", inputs: ["x", "w"], outputs: ["a"]),
            Node(op: "Identity", name: "alias", inputs: ["a"], outputs: ["b"]),
            Node(op: "Softmax", name: "dead", inputs: ["a"], outputs: ["unused_value"]),
            Node(op: "Relu", name: "big", inputs: ["huge"], outputs: ["huge2"]),
        ]
        out.append(("odd", odd))

        var softmax = ModelSpec()
        softmax.inputs = [ValueInfo(name: "x", dims: [-1, 3, 4])]
        softmax.outputs = [ValueInfo(name: "y", dims: [-1, 3, 4])]
        softmax.nodes = [Node(op: "Softmax", name: "sm", inputs: ["x"], outputs: ["y"])]
        softmax.metadata = [("description", "no tensors at all")]
        out.append(("softmax-3d", softmax))
        return out
    }
}
