import StrataCore
import StrataFormat
import StrataKernels

/// An executable plan built once per model at load: op semantics and shape inference, fusion of
/// Linear with a following activation, aliasing for shape-only ops, and a per-sample arena
/// layout with buffers reused by lifetime. A run follows it without allocating.
struct Plan: @unchecked Sendable {  // Pointers are into the immutable file the Model keeps alive.
    var steps: [Step] = []
    var descriptions: [StepDescription] = []
    /// Arena floats per sample.
    var arenaPerSample = 0
    /// Elements per sample of each graph input and output.
    var inputSampleCounts: [Int] = []
    var outputSampleCounts: [Int] = []
    /// Elements before the batch dim of each graph input and output (format 1.5): 1 when the
    /// caller's buffer is sample after sample, else the session reorders it (Session+BatchAxis.swift).
    var inputOuterCounts: [Int] = []
    var outputOuterCounts: [Int] = []
    /// Scratch floats each thread of a session needs (im2col panels), whatever the batch.
    var threadScratchFloats = 0
    /// GEMM scratch floats each thread needs: `gemmWorkspaceFloats` when a Linear (or recurrent)
    /// weight is quantized — those GEMMs decode weights or quantize activations into it — else 0
    /// (the f32 GEMM needs none).
    var gemmScratchFloats = 0
    /// Floats per batch row of the recurrent state a stateful session holds (each recurrent
    /// step's `H`, and `C` for LSTM, at its `RecurrentPlan.stateOffset`); 0 without recurrent steps.
    var recurrentStateFloats = 0
    /// Whether a recurrent step runs backwards in time (`direction = "reverse"`): such a model
    /// cannot stream.
    var hasReverseRecurrent = false
    /// Buffers the steps point into (weights packed at load); kept alive with the plan.
    var owned: [OwnedFloats] = []
}

extension Plan {
    /// Builds the plan. Throws `unsupported`, `shapeMismatch` or `malformed` naming the node.
    init(file: ModelFile) throws(StrataError) {
        var builder = PlanBuilder(file: file)
        try builder.build()
        self = builder.plan
    }
}

/// Per-value facts gathered while building.
struct ValueState {
    /// Per-sample dims (the batch dim removed).
    var dims: [Int]
    /// The value whose storage this one shares (itself unless an alias).
    var root: String
    /// Index of the step (or node) that uses it last.
    var lastUse = -1
    var count: Int { dims.reduce(1, *) }
}

struct PlanBuilder {
    let file: ModelFile
    var plan = Plan()
    var values: [String: ValueState] = [:]
    /// Producer node index of each non-alias value.
    var producer: [String: Int] = [:]
    /// Number of node uses of each value.
    var useCount: [String: Int] = [:]

    init(file: ModelFile) { self.file = file }

    mutating func build() throws(StrataError) {
        for input in file.inputs {
            values[input.name] = ValueState(dims: input.sampleDims, root: input.name)
        }
        for node in file.nodes { for name in node.inputs where !name.isEmpty { useCount[name, default: 0] += 1 } }
        for output in file.outputs { useCount[output.name, default: 0] += 1 }
        var ops: [PlannedOp] = []
        for (i, node) in file.nodes.enumerated() {
            ops.append(try planNode(NodeReader(node: node, index: i, file: file, values: values)))
        }
        ops = fuseConvResidualAdds(ops)
        // Fuse an op with an epilogue (Linear, Conv) and the activation after it, when its output
        // feeds only that activation.
        var fusedAway = Set<Int>()
        for i in ops.indices {
            guard i + 1 < ops.count,
                  case .step(let ax, let ay, let noScratch, .activation(_, let act)) = ops[i + 1].kind, noScratch.isEmpty,
                  case .step(let inputs, let outputs, let scratch, let kernel) = ops[i].kind,
                  outputs.count == 1, ax == outputs, let y = outputs.first,
                  useCount[y] == 1, !file.outputs.contains(where: { $0.name == y }),
                  let fused = kernel.fusing(act) else { continue }
            ops[i + 1].kind = .step(inputs: inputs, outputs: ay, scratch: scratch, kernel: fused)
            ops[i + 1].label = ops[i].label + "+" + ops[i + 1].label
            ops[i + 1].nodeNames = ops[i].nodeNames + ops[i + 1].nodeNames
            ops[i + 1].inputDims = ops[i].inputDims
            fusedAway.insert(i)
        }
        let kept = ops.indices.filter { !fusedAway.contains($0) }.map { ops[$0] }
        try assignStorage(kept)
    }

    /// Everything but storage: the op with value names, and the shapes for descriptions.
    struct PlannedOp {
        enum Kind {
            /// A step: value inputs, outputs and per-sample scratch values, by name.
            case step(inputs: [String], outputs: [String], scratch: [String], kernel: OpKernel)
            /// A shape-only op: its one output shares the storage of value `x`; no step runs.
            case alias(x: String)
        }
        var kind: Kind
        var label: String
        var nodeNames: [String]
        var inputDims: [Int]
        var outputDims: [Int]
    }
}
