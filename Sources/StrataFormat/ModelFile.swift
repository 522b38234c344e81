import StrataCore

/// A tensor's entry in the TENSORS section, validated against the DATA section.
package struct TensorDescriptor: Sendable, Equatable {
    /// Unique name, e.g. "fc1.weight".
    package var name: String
    /// Element type.
    package var dtype: DType
    /// Layout tag (0 = row-major).
    package var layout: UInt32
    /// Dimensions (rank 0 … 8).
    package var dims: [Int]
    /// Offset of the bytes from the start of the file (64-byte aligned).
    package var fileOffset: Int
    /// Number of bytes.
    package var byteCount: Int

    /// Number of logical elements (the product of `dims`; a packed layout may store more).
    package var elementCount: Int { dims.reduce(1, *) }

    /// The layout as a typed value.
    package var tensorLayout: TensorLayout { TensorLayout(rawValue: layout) }
}

/// A node attribute value.
package enum AttributeValue: Sendable, Equatable {
    /// Type 1.
    case int(Int64)
    /// Type 2.
    case float(Float)
    /// Type 3.
    case ints([Int64])
    /// Type 4.
    case string(String)

    /// The type id stored in the file.
    package var typeID: UInt32 {
        switch self {
        case .int: return 1
        case .float: return 2
        case .ints: return 3
        case .string: return 4
        }
    }
}

/// One op application in the graph.
package struct Node: Sendable, Equatable {
    /// Op name, e.g. "Linear".
    package var op: String
    /// Node name for messages (may be empty).
    package var name: String
    /// Input value or tensor names; "" = optional input absent.
    package var inputs: [String]
    /// Output value names.
    package var outputs: [String]
    /// Attributes in file order.
    package var attributes: [(key: String, value: AttributeValue)]

    /// Creates a node.
    package init(op: String, name: String, inputs: [String], outputs: [String],
                attributes: [(key: String, value: AttributeValue)] = []) {
        self.op = op
        self.name = name
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
    }

    /// The attribute named `key`, if present.
    package func attribute(_ key: String) -> AttributeValue? {
        attributes.first { $0.key == key }?.value
    }

    /// "node 3 'fc1' (Linear)" style label for messages.
    package func label(index: Int) -> String {
        name.isEmpty ? "node \(index) (\(op))" : "node \(index) '\(name)' (\(op))"
    }

    package static func == (a: Node, b: Node) -> Bool {
        a.op == b.op && a.name == b.name && a.inputs == b.inputs && a.outputs == b.outputs
            && a.attributes.map { $0.key } == b.attributes.map { $0.key }
            && a.attributes.map { $0.value } == b.attributes.map { $0.value }
    }
}

/// A validated `.strata` file: everything docs/FORMAT.md describes, with tensor bytes in place.
///
/// Immutable and `Sendable`; keeps its bytes (mapped or owned) alive.
package final class ModelFile: Sendable {
    /// The bytes the model was read from.
    package let bytes: ModelBytes
    /// Format version as (major, minor).
    package let version: (major: UInt16, minor: UInt16)
    /// Metadata in file order.
    package let metadata: [(key: String, value: String)]
    /// Tensors in file order.
    package let tensors: [TensorDescriptor]
    /// Graph inputs.
    package let inputs: [ValueInfo]
    /// Graph outputs.
    package let outputs: [ValueInfo]
    /// Nodes in topological order.
    package let nodes: [Node]
    /// Tensor index by name.
    package let tensorIndex: [String: Int]
    /// The SELFTEST section's reference data, when the file has one (format 1.1).
    package let selfTest: SelfTestData?

    init(bytes: ModelBytes, version: (UInt16, UInt16), metadata: [(key: String, value: String)],
         tensors: [TensorDescriptor], inputs: [ValueInfo], outputs: [ValueInfo], nodes: [Node],
         selfTest: SelfTestData? = nil) {
        self.bytes = bytes
        self.version = version
        self.metadata = metadata
        self.tensors = tensors
        self.inputs = inputs
        self.outputs = outputs
        self.nodes = nodes
        self.selfTest = selfTest
        var index: [String: Int] = [:]
        for (i, t) in tensors.enumerated() { index[t.name] = i }
        self.tensorIndex = index
    }

    /// The metadata value for `key`, if present.
    package func metadataValue(_ key: String) -> String? {
        metadata.first { $0.key == key }?.value
    }

    /// The descriptor of the tensor called `name`, if any.
    package func tensor(named name: String) -> TensorDescriptor? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// The tensor's bytes, in place in the file. Valid while this object lives.
    package func data(of tensor: TensorDescriptor) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: bytes.base + tensor.fileOffset, count: tensor.byteCount)
    }

    /// Size of the file in bytes.
    package var fileSize: Int { bytes.count }
}
