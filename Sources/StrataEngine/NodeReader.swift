import StrataCore
import StrataFormat

/// Reads one node's operands and attributes for the planner, with errors that name the node
/// (docs/FORMAT.md: `MALFORMED` for broken attributes, `UNSUPPORTED` for what the engine does not
/// implement, `SHAPE_MISMATCH` for inconsistent shapes).
struct NodeReader {
    let node: Node
    /// The node's position in the graph.
    let index: Int
    let file: ModelFile
    let values: [String: ValueState]
    /// How errors name the node, e.g. "node 3 'fc1' (Linear)".
    let label: String

    init(node: Node, index: Int, file: ModelFile, values: [String: ValueState]) {
        self.node = node
        self.index = index
        self.file = file
        self.values = values
        self.label = node.label(index: index)
    }

    /// The node's name, or "#index" for an unnamed node (step descriptions).
    var name: String { node.name.isEmpty ? "#\(index)" : node.name }

    func fail(_ status: Status, _ message: String) -> StrataError { StrataError(status, "\(label): \(message)") }

    /// `[N, d1, …]` for per-sample dims.
    func full(_ dims: [Int]) -> String { describeShape([-1] + dims) }

    /// Whether input `k` is present (not "" and not past the end).
    func has(_ k: Int) -> Bool { k < node.inputs.count && !node.inputs[k].isEmpty }

    /// The computed value at input `k`.
    func value(_ k: Int) throws(StrataError) -> ValueState {
        let name = node.inputs[k]
        guard let v = values[name] else {
            throw fail(.unsupported, "input \(k) '\(name)' is a tensor; this op needs a computed value there")
        }
        return v
    }

    /// The computed value at input `k`, or nil when the input is absent.
    func optionalValue(_ k: Int) throws(StrataError) -> ValueState? { has(k) ? try value(k) : nil }

    /// The row-major f32 tensor at input `k`, or nil when the input is absent.
    func tensor(_ k: Int) throws(StrataError) -> (TensorDescriptor, UnsafePointer<Float>)? {
        guard has(k) else { return nil }
        let name = node.inputs[k]
        guard let t = file.tensor(named: name) else {
            throw fail(.unsupported, "input \(k) '\(name)' must be a stored tensor (weights), not a computed value")
        }
        guard t.dtype == .f32 else { throw fail(.unsupported, "tensor '\(name)' has dtype \(t.dtype); this op takes f32") }
        guard t.tensorLayout == .rowMajor else {
            throw fail(.unsupported, "tensor '\(name)' has layout \(t.tensorLayout); only a Linear weight may be packed")
        }
        return (t, file.data(of: t).baseAddress!.assumingMemoryBound(to: Float.self))
    }

    /// The stored weight at input `k` in any dtype and layout (a Linear weight: f32 row-major,
    /// packed at load, or quantized panels used in place), or nil when the input is absent.
    func weightTensor(_ k: Int) throws(StrataError) -> (TensorDescriptor, UnsafeRawPointer)? {
        guard has(k) else { return nil }
        let name = node.inputs[k]
        guard let t = file.tensor(named: name) else {
            throw fail(.unsupported, "input \(k) '\(name)' must be a stored tensor (weights), not a computed value")
        }
        return (t, UnsafeRawPointer(file.data(of: t).baseAddress!))
    }

    /// The tensor at input `k`, which must be present.
    func requiredTensor(_ k: Int, _ what: String) throws(StrataError) -> (TensorDescriptor, UnsafePointer<Float>) {
        guard let t = try tensor(k) else { throw fail(.malformed, "\(node.op) needs \(what) at input \(k)") }
        return t
    }

    func int(_ key: String, default d: Int64? = nil) throws(StrataError) -> Int64 {
        guard let a = node.attribute(key) else {
            guard let d else { throw fail(.malformed, "\(node.op) needs the int attribute '\(key)'") }
            return d
        }
        guard case .int(let v) = a else { throw fail(.malformed, "attribute '\(key)' must be an int") }
        return v
    }

    /// An int attribute that must be 0 or 1.
    func flag(_ key: String) throws(StrataError) -> Bool {
        let v = try int(key, default: 0)
        guard v == 0 || v == 1 else { throw fail(.malformed, "attribute '\(key)' is \(v); it must be 0 or 1") }
        return v == 1
    }

    func float(_ key: String, default d: Float) throws(StrataError) -> Float {
        guard let a = node.attribute(key) else { return d }
        guard case .float(let v) = a else { throw fail(.malformed, "attribute '\(key)' must be a float") }
        return v
    }

    func string(_ key: String, default d: String) throws(StrataError) -> String {
        guard let a = node.attribute(key) else { return d }
        guard case .string(let v) = a else { throw fail(.malformed, "attribute '\(key)' must be a string") }
        return v
    }

    /// An ints attribute of exactly `count` entries, each at least `minimum`; `default` when absent
    /// (nil: required).
    func ints(_ key: String, count: Int, minimum: Int64, default d: [Int]?) throws(StrataError) -> [Int] {
        guard let a = node.attribute(key) else {
            guard let d else { throw fail(.malformed, "\(node.op) needs the ints attribute '\(key)' (\(count) values)") }
            return d
        }
        guard case .ints(let v) = a else { throw fail(.malformed, "attribute '\(key)' must be ints") }
        guard v.count == count else {
            throw fail(.malformed, "attribute '\(key)' has \(v.count) values \(describeList(v)); \(node.op) takes \(count)")
        }
        for x in v where x < minimum || x > Int64(FormatLimits.maxDim) {
            throw fail(.malformed, "attribute '\(key)' is \(describeList(v)); each value must be in \(minimum)…\(FormatLimits.maxDim)")
        }
        return v.map { Int($0) }
    }

    /// Normalizes an axis of the full (batch-included) rank; the batch axis is `UNSUPPORTED`.
    /// `default` nil: the attribute is required (`MALFORMED` when absent).
    func axis(_ key: String, default d: Int64?, rank: Int, dims: [Int]) throws(StrataError) -> Int {
        let raw = try int(key, default: d)
        guard raw >= -Int64(rank), raw < Int64(rank) else {
            throw fail(.malformed, "\(key) \(raw) is out of range for rank \(rank)")
        }
        let a = Int(raw < 0 ? raw + Int64(rank) : raw)
        guard a != 0 else {
            throw fail(.unsupported, "\(node.op) over axis 0 of \(full(dims)) is not supported: axis 0 is the batch")
        }
        return a
    }
}
