import StrataCore
import StrataFormat

// What a model's file holds and how to check it, as the C ABI and the `strata` tool see it: the
// engine is the facade, so nothing above it needs StrataFormat's types.

/// How `Model` loads a file.
public struct LoadOptions: Sendable {
    /// Verify the header and section CRC-32s (skip only for trusted, very large files).
    public var verifyChecksums = true
    /// Default options: every check on.
    public init() {}

    var reader: ModelReader.Options {
        var options = ModelReader.Options()
        options.verifyChecksums = verifyChecksums
        return options
    }
}

/// A stored tensor: name, shape, element type, layout and weight encoding.
public struct TensorSummary: Sendable, Equatable {
    public var name: String
    public var dims: [Int]
    public var dtype: DType
    public var layout: TensorLayout
    /// Elements of the logical shape.
    public var elementCount: Int
    /// The weight encoding's name ("int8-dynamic", …) for a panel-layout weight, else the dtype's.
    public var encoding: String
}

/// A graph node: op, name, inputs ("" for an absent optional one) and outputs.
public struct NodeSummary: Sendable, Equatable {
    public var op: String
    public var name: String
    public var inputs: [String]
    public var outputs: [String]
}

/// One section whose CRC-32 was checked.
public struct SectionSummary: Sendable, Equatable {
    /// "GRAPH", or "kind N" for a kind this library does not know.
    public var name: String
    /// Whether a reader that does not know the kind may skip it.
    public var isOptional: Bool
    /// Body size in bytes.
    public var size: Int
    public var crc32: UInt32
}

/// The embedded self-test's size and tolerance (`Model.selfTest()` runs it).
public struct SelfTestSummary: Sendable, Equatable {
    public var sampleCount: Int
    public var absoluteTolerance: Float
    public var relativeTolerance: Float
}

extension Model {
    /// The newest format version this library reads and writes.
    public static var formatVersion: (major: UInt16, minor: UInt16) { (FormatConstants.versionMajor, FormatConstants.versionMinor) }
    /// The metadata key under which a file records its payload SHA-256.
    public static var payloadDigestKey: String { Integrity.sha256Key }

    /// The file's size in bytes.
    public var fileSize: Int { file.fileSize }
    /// The file's format version.
    public var formatVersion: (major: UInt16, minor: UInt16) { file.version }
    /// The metadata entries in file order.
    public var metadata: [(key: String, value: String)] { file.metadata }
    /// The value of metadata `key`, or nil.
    public func metadataValue(_ key: String) -> String? { file.metadataValue(key) }

    /// The stored tensors in file order.
    public var tensors: [TensorSummary] { file.tensors.map(Model.summary) }
    /// The stored tensor called `name`, or nil.
    public func tensor(named name: String) -> TensorSummary? { file.tensor(named: name).map(Model.summary) }
    /// The graph's nodes in file order.
    public var nodes: [NodeSummary] {
        file.nodes.map { NodeSummary(op: $0.op, name: $0.name, inputs: $0.inputs, outputs: $0.outputs) }
    }
    /// The embedded self-test's size and tolerance, or nil when the file has none.
    public var selfTestSummary: SelfTestSummary? {
        file.selfTest.map { SelfTestSummary(sampleCount: $0.sampleCount, absoluteTolerance: $0.absoluteTolerance,
                                            relativeTolerance: $0.relativeTolerance) }
    }

    /// Recomputes the header's and every section's CRC-32.
    /// - Returns: the sections checked, in table order.
    /// - Throws: `checksumMismatch` naming the first that differs.
    public func verifyChecksums() throws(StrataError) -> [SectionSummary] {
        try Integrity.verifyCRCs(file).map {
            SectionSummary(name: $0.name, isOptional: $0.flags & FormatConstants.sectionFlagOptional != 0, size: $0.size, crc32: $0.crc32)
        }
    }

    /// Recomputes the payload SHA-256 when the file records one.
    /// - Returns: the digest (lower-case hex), or nil when none is recorded.
    /// - Throws: `checksumMismatch` when it differs from the recorded one.
    public func verifyPayloadDigest() throws(StrataError) -> String? { try Integrity.verifyPayloadDigest(file) }

    private static func summary(_ t: TensorDescriptor) -> TensorSummary {
        let encoding = t.tensorLayout == .rowMajor ? t.dtype.description
            : WeightEncoding.of(dtype: t.dtype, layout: t.tensorLayout)?.name ?? t.dtype.description
        return TensorSummary(name: t.name, dims: t.dims, dtype: t.dtype, layout: t.tensorLayout, elementCount: t.elementCount,
                             encoding: encoding)
    }
}
