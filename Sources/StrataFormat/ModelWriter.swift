import StrataCore

/// A model to write: the in-memory form of everything docs/FORMAT.md stores.
package struct ModelSpec: Sendable {
    /// A tensor to store (f32, row-major).
    package struct Tensor: Sendable {
        /// Unique name.
        package var name: String
        /// Dimensions.
        package var dims: [Int]
        /// Values in logical row-major order, `dims.reduce(1, *)` of them.
        package var values: [Float]
        /// How to store them (`.panel16` packs a rank-2 weight for the GEMM).
        package var layout: TensorLayout
        /// Creates a tensor.
        package init(name: String, dims: [Int], values: [Float], layout: TensorLayout = .rowMajor) {
            self.name = name
            self.dims = dims
            self.values = values
            self.layout = layout
        }

        /// The values in storage order for `layout`.
        var stored: [Float] {
            guard layout == .panel16, dims.count == 2 else { return values }
            let n = dims[0], k = dims[1], panels = (n + 15) / 16
            var out = [Float](repeating: 0, count: panels * k * 16)
            for row in 0..<n {
                for kk in 0..<k { out[(row / 16) * k * 16 + kk * 16 + row % 16] = values[row * k + kk] }
            }
            return out
        }
    }

    /// Metadata in the order to write.
    package var metadata: [(key: String, value: String)] = []
    /// Tensors in the order to write.
    package var tensors: [Tensor] = []
    /// Graph inputs.
    package var inputs: [ValueInfo] = []
    /// Graph outputs.
    package var outputs: [ValueInfo] = []
    /// Nodes in topological order.
    package var nodes: [Node] = []
    /// Reference data for an optional SELFTEST section (written last), if any.
    package var selfTest: SelfTestData? = nil
    /// Record the payload SHA-256 under the `payload_sha256` metadata key (docs/FORMAT.md, "Integrity").
    package var recordsPayloadSHA256 = false

    /// An empty spec.
    package init() {}
}

/// Serializes a `ModelSpec` to the bytes of a `.strata` file. Output is deterministic.
package enum ModelWriter {
    /// The file's bytes.
    package static func serialize(_ spec: ModelSpec) -> [UInt8] {

        var data = ByteWriter()
        var table = ByteWriter()
        table.u32(UInt32(spec.tensors.count))
        for t in spec.tensors {
            data.pad(to: FormatConstants.tensorAlignment)
            let offset = data.bytes.count
            let stored = t.stored
            for v in stored { data.u32(v.bitPattern) }
            table.string(t.name)
            table.u32(DType.f32.rawValue)
            table.u32(t.layout.rawValue)
            table.u32(UInt32(t.dims.count))
            for d in t.dims { table.u64(UInt64(d)) }
            table.u64(UInt64(offset))
            table.u64(UInt64(stored.count * 4))
        }
        data.pad(to: FormatConstants.tensorAlignment)

        var graph = ByteWriter()
        for infos in [spec.inputs, spec.outputs] {
            graph.u32(UInt32(infos.count))
            for info in infos {
                graph.string(info.name)
                graph.u32(info.dtype.rawValue)
                graph.u32(UInt32(info.dims.count))
                for d in info.dims { graph.u64(UInt64(bitPattern: Int64(d))) }
            }
        }
        graph.u32(UInt32(spec.nodes.count))
        for node in spec.nodes {
            graph.string(node.op)
            graph.string(node.name)
            graph.u32(UInt32(node.inputs.count))
            for s in node.inputs { graph.string(s) }
            graph.u32(UInt32(node.outputs.count))
            for s in node.outputs { graph.string(s) }
            graph.u32(UInt32(node.attributes.count))
            for (key, value) in node.attributes {
                graph.string(key)
                graph.u32(value.typeID)
                switch value {
                case .int(let v): graph.u64(UInt64(bitPattern: v))
                case .float(let v): graph.u32(v.bitPattern)
                case .ints(let v):
                    graph.u32(UInt32(v.count))
                    for x in v { graph.u64(UInt64(bitPattern: x)) }
                case .string(let s): graph.string(s)
                }
            }
        }
        var payload: [(SectionKind, [UInt8])] = [(.tensors, table.bytes), (.graph, graph.bytes), (.data, data.bytes)]
        if let selfTest = spec.selfTest { payload.append((.selfTest, selfTest.serialized())) }
        var metadata = spec.metadata
        if spec.recordsPayloadSHA256 {
            var h = SHA256()
            for (_, body) in payload { h.update(body) }
            metadata.append((Integrity.sha256Key, SHA256.hex(h.finalize())))
        }
        var meta = ByteWriter()
        meta.u32(UInt32(metadata.count))
        for (k, v) in metadata { meta.string(k); meta.string(v) }
        // The lowest minor that describes the file: 2 for an op of "Ops (1.2)", 1 for SELFTEST or
        // payload_sha256, else 0.
        let opMinor = spec.nodes.map { OpSchema.all[$0.op]?.since ?? 0 }.max() ?? 0
        let minor: UInt16 = max(opMinor, spec.selfTest != nil || spec.recordsPayloadSHA256 ? 1 : 0)
        return assemble([(.metadata, meta.bytes)] + payload, minor: minor)
    }

    /// Lays out header, section table and sections (docs/FORMAT.md, "Layout").
    static func assemble(_ sections: [(SectionKind, [UInt8])], minor: UInt16 = 0) -> [UInt8] {
        var file = ByteWriter()
        file.bytes = [UInt8](repeating: 0, count: 64 + 32 * sections.count)
        var entries: [(SectionKind, Int, Int, UInt32)] = []
        for (kind, body) in sections {
            file.pad(to: kind == .data ? FormatConstants.tensorAlignment : FormatConstants.sectionAlignment)
            entries.append((kind, file.bytes.count, body.count, CRC32.checksum(body)))
            file.bytes += body
        }
        var header = ByteWriter()
        header.bytes = FormatConstants.magic
        header.u16(FormatConstants.versionMajor)
        header.u16(minor)
        header.u32(UInt32(FormatConstants.headerSize))
        header.u64(UInt64(file.bytes.count))
        header.u32(UInt32(sections.count))
        header.u32(0)
        header.u64(UInt64(FormatConstants.headerSize))
        header.bytes += [UInt8](repeating: 0, count: 20)
        header.u32(CRC32.checksum(header.bytes))
        var table = ByteWriter()
        for (kind, offset, size, crc) in entries {
            table.u32(kind.rawValue); table.u32(kind == .selfTest ? FormatConstants.sectionFlagOptional : 0)
            table.u64(UInt64(offset)); table.u64(UInt64(size))
            table.u32(crc); table.u32(0)
        }
        file.bytes.replaceSubrange(0..<64, with: header.bytes)
        file.bytes.replaceSubrange(64..<(64 + table.bytes.count), with: table.bytes)
        return file.bytes
    }
}

/// Little-endian byte appender for the writer.
struct ByteWriter {
    var bytes: [UInt8] = []
    mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func string(_ s: String) { u32(UInt32(s.utf8.count)); bytes += s.utf8 }
    mutating func pad(to alignment: Int) {
        let target = alignUp(bytes.count, alignment)!
        bytes += [UInt8](repeating: 0, count: target - bytes.count)
    }
}
