/// Constants of docs/FORMAT.md version 1.5.
package enum FormatConstants {
    /// `"STRATA\0\0"`.
    package static let magic: [UInt8] = [0x53, 0x54, 0x52, 0x41, 0x54, 0x41, 0x00, 0x00]
    /// The major version this library reads and writes.
    package static let versionMajor: UInt16 = 1
    /// The newest minor version this library writes (1.1 added the optional SELFTEST section and
    /// the `payload_sha256` metadata key, 1.2 the ops of "Ops (1.2)" and quantized weights, 1.3 the
    /// panel16k4 layout of dynamic int8, 1.4 the clamp ops of "Ops (1.4)", 1.5 a graph input or output's batch in any dim); a writer stamps the
    /// lowest minor whose features the file uses.
    package static let versionMinor: UInt16 = 5
    /// Header size in bytes.
    package static let headerSize = 64
    /// Section table entry size in bytes.
    package static let sectionEntrySize = 32
    /// Alignment of tensors (and of the DATA section) in bytes.
    package static let tensorAlignment = 64
    /// Alignment of every other section in bytes.
    package static let sectionAlignment = 8
    /// Section flag: a reader that does not know the kind skips the section.
    package static let sectionFlagOptional: UInt32 = 1
}

/// Section kinds (append-only).
package enum SectionKind: UInt32, Sendable, CaseIterable {
    /// Key-value strings.
    case metadata = 1
    /// The tensor table.
    case tensors = 2
    /// Inputs, outputs, nodes.
    case graph = 3
    /// Tensor bytes.
    case data = 4
    /// Self-test data (optional, since 1.1): reference inputs and outputs, see `SelfTestData`.
    case selfTest = 5

    /// The kinds every file has exactly once.
    package static let required: [SectionKind] = [.metadata, .tensors, .graph, .data]

    /// Upper-case name for messages.
    package var name: String {
        switch self {
        case .metadata: return "METADATA"
        case .tensors: return "TENSORS"
        case .graph: return "GRAPH"
        case .data: return "DATA"
        case .selfTest: return "SELFTEST"
        }
    }
}

/// Caps a reader enforces on counts and lengths (docs/FORMAT.md).
package enum FormatLimits {
    /// Bytes in a name.
    package static let maxNameBytes = 1024
    /// Bytes in a metadata value.
    package static let maxMetadataValueBytes = 1 << 20
    /// Metadata entries.
    package static let maxMetadataEntries = 1024
    /// Tensors.
    package static let maxTensors = 65536
    /// Nodes.
    package static let maxNodes = 65536
    /// Graph inputs or outputs.
    package static let maxGraphIO = 64
    /// Sections.
    package static let maxSections = 64
    /// Tensor and value rank.
    package static let maxRank = 8
    /// A single dimension.
    package static let maxDim = 1 << 32
    /// Node inputs or outputs.
    package static let maxNodeIO = 16
    /// Attributes per node.
    package static let maxAttributes = 32
    /// Elements of an `ints` attribute.
    package static let maxAttributeInts = 16
}
