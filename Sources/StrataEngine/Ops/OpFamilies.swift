import StrataCore
import StrataFormat
import StrataKernels

/// The op families: each file of Ops/ declares the ops it plans, plans their nodes into steps
/// (shape rule, checks, the kernel's plan) and runs those steps. This file is the one place
/// that connects them: planning by op name, running by kernel.
extension PlanBuilder {
    /// A family's planner: one node in, its planned op out.
    typealias FamilyPlanner = @Sendable (inout PlanBuilder, NodeReader) throws(StrataError) -> PlannedOp

    /// Every family with the op names it plans (the names of the op table, `OpSchema.all`).
    static let families: [(ops: Set<String>, plan: FamilyPlanner)] = [
        (linearOps, { b, r throws(StrataError) in try b.planLinear(r) }),
        (activationOps, { b, r throws(StrataError) in try b.planActivation(r) }),
        (softmaxOps, { b, r throws(StrataError) in try b.planSoftmax(r) }),
        (shapeOps, { b, r throws(StrataError) in try b.planShape(r) }),
        (binaryOps, { b, r throws(StrataError) in try b.planBinary(r) }),
        (layerNormOps, { b, r throws(StrataError) in try b.planLayerNorm(r) }),
        (convOps, { b, r throws(StrataError) in try b.planConv(r) }),
        (poolOps, { b, r throws(StrataError) in try b.planPool(r) }),
        (recurrentOps, { b, r throws(StrataError) in try b.planRecurrent(r) }),
        (concatOps, { b, r throws(StrataError) in try b.planConcat(r) }),
        (stridedOps, { b, r throws(StrataError) in try b.planStrided(r) }),
        (reduceOps, { b, r throws(StrataError) in try b.planReduce(r) }),
        // Format 1.5, issue 15 part B (spatial ops).
        (convTransposeOps, { b, r throws(StrataError) in try b.planConvTranspose(r) }),
        (resizeOps, { b, r throws(StrataError) in try b.planResize(r) }),
        (padOps, { b, r throws(StrataError) in try b.planPad(r) }),
    ]

    /// Every op some family plans.
    static var plannedOps: Set<String> {
        var all = Set<String>()
        for family in families { all.formUnion(family.ops) }
        return all
    }

    /// Plans one node through the family that owns its op. Throws `unsupported` for an op no
    /// family plans, or what the family throws (naming the node).
    mutating func planNode(_ r: NodeReader) throws(StrataError) -> PlannedOp {
        for family in PlanBuilder.families where family.ops.contains(r.node.op) {
            return try family.plan(&self, r)
        }
        throw r.fail(.unsupported, "op '\(r.node.op)' is not supported by this engine")
    }

    /// Records the node's outputs (per-sample dims) and scratch values (per-sample float counts),
    /// and returns its step: `inputs` are the value operands the kernel reads, in its order.
    mutating func step(_ r: NodeReader, inputs: [String], _ kernel: OpKernel, inputDims: [Int],
                       outputs: [[Int]], scratch: [Int] = []) throws(StrataError) -> PlannedOp {
        for (name, dims) in zip(r.node.outputs, outputs) {
            guard checkedProduct(dims) != nil else { throw r.fail(.shapeMismatch, "output shape \(r.full(dims)) overflows") }
            values[name] = ValueState(dims: dims, root: name)
        }
        var scratchNames: [String] = []
        for (k, count) in scratch.enumerated() {
            let name = PlanBuilder.scratchName(r.node.outputs[0], k)
            values[name] = ValueState(dims: [count], root: name)
            scratchNames.append(name)
        }
        return PlannedOp(kind: .step(inputs: inputs, outputs: r.node.outputs, scratch: scratchNames, kernel: kernel),
                         label: r.node.op, nodeNames: [r.name], inputDims: inputDims, outputDims: outputs[0])
    }

    /// Records the node's one output as `x` seen with per-sample dims `dims` (same storage, no step).
    mutating func alias(_ r: NodeReader, of x: String, inputDims: [Int], dims: [Int]) throws(StrataError) -> PlannedOp {
        guard checkedProduct(dims) != nil else { throw r.fail(.shapeMismatch, "output shape \(r.full(dims)) overflows") }
        values[r.node.outputs[0]] = ValueState(dims: dims, root: values[x]!.root)
        return PlannedOp(kind: .alias(x: x), label: r.node.op, nodeNames: [r.name], inputDims: inputDims, outputDims: dims)
    }

    /// The name of scratch value `k` of the node whose first output is `y` (not a valid file name,
    /// so it cannot collide).
    static func scratchName(_ y: String, _ k: Int) -> String { "\u{0}scratch\(k)\u{0}\(y)" }
}

extension Session {
    /// Runs one step on `batch` samples through its family's kernel.
    @inline(__always)
    func run(_ step: Step, batch: Int, _ ptr: RunBuffers) {
        switch step.kernel {
        case .linear(let plan): runLinear(plan, step, batch: batch, ptr)
        case .activation(let count, let activation): runActivation(count: count, activation, step, batch: batch, ptr)
        case .softmax(let plan): runSoftmax(plan, step, batch: batch, ptr)
        case .copy(let count): runCopy(count: count, step, batch: batch, ptr)
        case .binary(let op, let plan): runBinary(op, plan, step, batch: batch, ptr)
        case .layerNorm(let plan): runLayerNorm(plan, step, batch: batch, ptr)
        case .conv(let plan): runConv(plan, step, batch: batch, ptr)
        case .pool(let plan): runPool(plan, step, batch: batch, ptr)
        case .recurrent(let plan): runRecurrent(plan, step, batch: batch, ptr)
        case .concat(let plan): runConcat(plan, step, batch: batch, ptr)
        case .strided(let plan): runStrided(plan, step, batch: batch, ptr)
        case .reduce(let plan): runReduce(plan, step, batch: batch, ptr)
        case .convTranspose(let plan): runConvTranspose(plan, step, batch: batch, ptr)
        case .resize(let plan): runResize(plan, step, batch: batch, ptr)
        case .pad(let plan): runPad(plan, step, batch: batch, ptr)
        }
    }
}
