import StrataCore
import StrataFormat
import StrataKernels

/// Storage assignment: graph inputs and outputs live in the caller's buffers, everything else in
/// arena regions reused once their last reader has run.
extension PlanBuilder {
    mutating func assignStorage(_ ops: [PlannedOp]) throws(StrataError) {
        func root(_ name: String) -> String { values[name]!.root }
        // Last step reading each root.
        var lastUse: [String: Int] = [:]
        for (i, op) in ops.enumerated() {
            for name in op.inputNames { lastUse[root(name)] = i }
        }
        // Storage of roots: inputs, then the first graph output aliasing a root.
        var storage: [String: Storage] = [:]
        for (k, input) in file.inputs.enumerated() { storage[input.name] = .input(k) }
        for (k, output) in file.outputs.enumerated() where storage[root(output.name)] == nil {
            storage[root(output.name)] = .output(k)
        }
        // Arena regions, sized per sample in floats (multiples of 16 = 64 bytes).
        var regionSizes: [Int] = []
        var free: [Int] = []
        var regionOf: [String: Int] = [:]
        for (i, op) in ops.enumerated() {
            for y in op.producedRoots where storage[y] == nil && regionOf[y] == nil {
                guard let need = alignUp(values[y]!.count, 16) else {
                    throw StrataError(.shapeMismatch, "value '\(y)' has \(values[y]!.count) elements per sample; its buffer size overflows")
                }
                let pick = free.filter { regionSizes[$0] >= need }.min { regionSizes[$0] < regionSizes[$1] }
                    ?? free.max { regionSizes[$0] < regionSizes[$1] }
                if let r = pick {
                    free.removeAll { $0 == r }
                    regionSizes[r] = max(regionSizes[r], need)
                    regionOf[y] = r
                } else {
                    regionOf[y] = regionSizes.count
                    regionSizes.append(need)
                }
            }
            for y in op.producedRoots where lastUse[y] == nil {
                if let r = regionOf[y] { free.append(r) }          // never read: reusable at once
            }
            for name in Set(op.inputNames.map(root)) where lastUse[name] == i {
                if let r = regionOf[name] { free.append(r) }       // last reader done
            }
        }
        var offsets: [Int] = []
        var total = 0
        for size in regionSizes {
            offsets.append(total)
            guard let t = checkedAdd(total, size) else {
                throw StrataError(.shapeMismatch, "the model's intermediate buffers overflow: they need more than 2^63 floats per sample")
            }
            total = t
        }
        for (name, region) in regionOf { storage[name] = .arena(offsets[region]) }
        plan.arenaPerSample = total

        func at(_ name: String) -> Storage { storage[root(name)]! }
        for op in ops {
            guard case .step(let inputs, let outputs, let scratch, let kernel) = op.kind else { continue }
            plan.steps.append(Step(inputs: inputs.map(at), outputs: outputs.map(at), scratch: scratch.map(at), kernel: kernel))
            plan.descriptions.append(StepDescription(kind: op.label, nodes: op.nodeNames,
                                                     shapes: "\(describeShape([-1] + op.inputDims)) -> \(describeShape([-1] + op.outputDims))"))
        }
        // Graph outputs that are not stored in their own buffer get a final copy.
        for (k, output) in file.outputs.enumerated() {
            let inferred = values[output.name]!.dims
            guard inferred == output.sampleDims else {
                throw StrataError(.shapeMismatch, "graph output '\(output.name)' is declared \(describeShape(output.dims)) but the graph computes \(describeShape([-1] + inferred))")
            }
            if at(output.name) != .output(k) {
                plan.steps.append(Step(inputs: [at(output.name)], outputs: [.output(k)], scratch: [],
                                       kernel: .copy(count: values[output.name]!.count)))
                plan.descriptions.append(StepDescription(kind: "Copy", nodes: [output.name], shapes: describeShape(output.dims)))
            }
        }
        plan.inputSampleCounts = file.inputs.map { $0.sampleCount }
        plan.outputSampleCounts = file.outputs.map { $0.sampleCount }
        plan.inputOuterCounts = file.inputs.map { $0.outerCount }
        plan.outputOuterCounts = file.outputs.map { $0.outerCount }
    }
}

extension PlanBuilder.PlannedOp {
    /// Value names this op reads.
    var inputNames: [String] {
        switch kind {
        case .step(let inputs, _, _, _): return inputs
        case .alias(let x): return [x]
        }
    }

    /// Values this op writes, scratch included (aliases write nothing).
    var producedRoots: [String] {
        switch kind {
        case .step(_, let outputs, let scratch, _): return outputs + scratch
        case .alias: return []
        }
    }
}
