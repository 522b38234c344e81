import StrataCore

/// Validates a `.strata` image completely (docs/FORMAT.md, "A reader rejects") before handing out
/// a single pointer. All arithmetic on values from the file is checked.
package enum ModelReader {
    /// Options for reading.
    package struct Options: Sendable {
        /// Verify the header and section CRC32s (skip only for trusted, very large files).
        package var verifyChecksums = true
        /// Default options.
        package init() {}
    }

    /// Maps and validates the file at `path`.
    package static func read(path: String, options: Options = Options()) throws(StrataError) -> ModelFile {
        try read(bytes: ModelBytes.mapping(path: path), options: options)
    }

    /// Maps and validates the file at the NUL-terminated `cPath` (bytes passed to `open` as is).
    package static func read(cPath: UnsafePointer<CChar>, options: Options = Options()) throws(StrataError) -> ModelFile {
        try read(bytes: ModelBytes.mapping(cPath: cPath), options: options)
    }

    /// Copies and validates an in-memory image.
    package static func read(copying buffer: UnsafeRawBufferPointer, options: Options = Options()) throws(StrataError) -> ModelFile {
        try read(bytes: ModelBytes.copying(buffer), options: options)
    }

    /// Validates `bytes`, which the returned model keeps alive.
    package static func read(bytes: ModelBytes, options: Options = Options()) throws(StrataError) -> ModelFile {
        let buf = bytes.buffer
        let (minor, sections) = try readHeaderAndSections(buf, options: options)
        func section(_ k: SectionKind) -> UnsafeRawBufferPointer {
            let s = sections[k]!
            return UnsafeRawBufferPointer(rebasing: buf[s.offset..<(s.offset + s.size)])
        }
        let metadata = try readMetadata(section(.metadata))
        try Integrity.checkMetadata(metadata)
        let dataStart = sections[.data]!.offset
        let tensors = try readTensors(section(.tensors), dataStart: dataStart, dataSize: sections[.data]!.size)
        try checkZeroPadding(buf, tensors: tensors, dataStart: dataStart, dataSize: sections[.data]!.size)
        for t in tensors where t.dtype.isWeightOnly { try checkQuantizedValues(buf, t) }
        var graph = ByteReader(section(.graph), context: "GRAPH")
        let inputs = try readValueInfos(&graph, what: "input", minor: minor)
        let outputs = try readValueInfos(&graph, what: "output", minor: minor)
        let nodes = try readNodes(&graph)
        try graph.expectEnd()
        try GraphValidator.validate(inputs: inputs, outputs: outputs, nodes: nodes, tensors: tensors)
        let selfTest = try sections[.selfTest].map { _ throws(StrataError) in
            try SelfTestData.read(section(.selfTest), inputs: inputs, outputs: outputs)
        }
        return ModelFile(bytes: bytes, version: (FormatConstants.versionMajor, minor), metadata: metadata,
                         tensors: tensors, inputs: inputs, outputs: outputs, nodes: nodes, selfTest: selfTest)
    }

    // MARK: header and sections

    struct SectionEntry { var offset: Int; var size: Int }

    static func readHeaderAndSections(_ buf: UnsafeRawBufferPointer, options: Options) throws(StrataError)
        -> (minor: UInt16, sections: [SectionKind: SectionEntry]) {
        let n = buf.count
        guard n >= FormatConstants.headerSize else {
            throw StrataError(.truncated, "file is \(n) bytes, shorter than the 64-byte header")
        }
        guard buf.prefix(8).elementsEqual(FormatConstants.magic) else {
            throw StrataError(.badMagic, "bad magic: this is not a .strata file (expected \"STRATA\\0\\0\" in the first 8 bytes)")
        }
        let majorValue = UInt16(littleEndian: buf.loadUnaligned(fromByteOffset: 8, as: UInt16.self))
        let minor = UInt16(littleEndian: buf.loadUnaligned(fromByteOffset: 10, as: UInt16.self))
        var h = ByteReader(UnsafeRawBufferPointer(rebasing: buf[12..<40]), context: "header")
        guard majorValue == FormatConstants.versionMajor else {
            throw StrataError(.unsupportedVersion, "file format version \(majorValue).\(minor) is not supported; this library reads version \(FormatConstants.versionMajor).x")
        }
        let headerSize = Int(try h.u32("header_size"))
        let fileSize = try h.u64("file_size")
        let sectionCount = Int(try h.u32("section_count"))
        let flags = try h.u32("flags")
        let tableOffset = try h.u64("section_table_offset")
        if options.verifyChecksums {
            let stored = UInt32(littleEndian: buf.loadUnaligned(fromByteOffset: 60, as: UInt32.self))
            let actual = CRC32.checksum(UnsafeRawBufferPointer(rebasing: buf[0..<60]))
            guard stored == actual else {
                throw StrataError(.checksumMismatch, "header checksum mismatch (stored 0x\(hex(stored)), computed 0x\(hex(actual))): the file is corrupted")
            }
        }
        guard headerSize == FormatConstants.headerSize else {
            throw StrataError(.malformed, "header_size is \(headerSize), expected 64")
        }
        guard flags == 0 else { throw StrataError(.malformed, "header flags are 0x\(hex(flags)), expected 0") }
        guard buf[40..<60].allSatisfy({ $0 == 0 }) else {
            throw StrataError(.malformed, "reserved header bytes 40…59 are not zero")
        }
        guard tableOffset == UInt64(FormatConstants.headerSize) else {
            throw StrataError(.malformed, "section_table_offset is \(tableOffset), expected 64")
        }
        guard fileSize <= UInt64(Int.max), Int(fileSize) <= n else {
            throw StrataError(.truncated, "file is truncated: it is \(n) bytes but its header declares \(fileSize)")
        }
        guard Int(fileSize) == n else {
            throw StrataError(.malformed, "file has \(n - Int(fileSize)) bytes of trailing garbage after its declared size \(fileSize)")
        }
        guard (1...FormatLimits.maxSections).contains(sectionCount) else {
            throw StrataError(.malformed, "section_count is \(sectionCount), expected 1…\(FormatLimits.maxSections)")
        }
        let tableEnd = 64 + sectionCount * FormatConstants.sectionEntrySize
        guard tableEnd <= n else {
            throw StrataError(.truncated, "file ends inside the section table (\(sectionCount) entries need \(tableEnd) bytes, file has \(n))")
        }
        var sections: [SectionKind: SectionEntry] = [:]
        var previousEnd = tableEnd
        for i in 0..<sectionCount {
            var e = ByteReader(UnsafeRawBufferPointer(rebasing: buf[(64 + 32 * i)..<(96 + 32 * i)]), context: "section table")
            let kindID = try e.u32("kind"), sflags = try e.u32("flags")
            let offset = try e.u64("offset"), size = try e.u64("size")
            let crc = try e.u32("crc32"), reserved = try e.u32("reserved")
            let kind = SectionKind(rawValue: kindID)
            let label = kind?.name ?? "kind \(kindID)"
            guard sflags & ~FormatConstants.sectionFlagOptional == 0, reserved == 0 else {
                throw StrataError(.malformed, "section \(i) (\(label)) has unknown flags 0x\(hex(sflags)) or non-zero reserved bytes")
            }
            if kind == nil && sflags & FormatConstants.sectionFlagOptional == 0 {
                throw StrataError(.malformed, "section \(i) has unknown kind \(kindID) and is not optional: the file needs a newer reader")
            }
            if kind == .selfTest && sflags & FormatConstants.sectionFlagOptional == 0 {
                throw StrataError(.malformed, "section \(i) (SELFTEST) is not marked optional; format 1.1 requires the flag so that 1.0 readers skip it")
            }
            let alignment = kind == .data ? FormatConstants.tensorAlignment : FormatConstants.sectionAlignment
            let expected = alignUp(previousEnd, alignment)!
            guard offset <= UInt64(n), size <= UInt64(n), Int(offset) + Int(size) <= n else {
                throw StrataError(.truncated, "section \(i) (\(label)) at offset \(offset) with size \(size) ends past the end of the file (\(n) bytes)")
            }
            guard Int(offset) == expected else {
                throw StrataError(.malformed, "section \(i) (\(label)) starts at offset \(offset), expected \(expected) (sections must follow each other in order, \(alignment)-byte aligned, without holes or overlaps)")
            }
            guard size > 0 || kind == .data else {
                throw StrataError(.malformed, "section \(i) (\(label)) is empty")
            }
            guard buf[previousEnd..<expected].allSatisfy({ $0 == 0 }) else {
                throw StrataError(.malformed, "padding before section \(i) (\(label)) is not zero")
            }
            let body = UnsafeRawBufferPointer(rebasing: buf[Int(offset)..<(Int(offset) + Int(size))])
            if options.verifyChecksums {
                let actual = CRC32.checksum(body)
                guard actual == crc else {
                    throw StrataError(.checksumMismatch, "section \(label) checksum mismatch (stored 0x\(hex(crc)), computed 0x\(hex(actual))): the file is corrupted")
                }
            }
            if let kind {
                guard sections[kind] == nil else {
                    throw StrataError(.malformed, "section \(kind.name) appears more than once")
                }
                sections[kind] = SectionEntry(offset: Int(offset), size: Int(size))
            }
            previousEnd = Int(offset) + Int(size)
        }
        guard previousEnd == n else {
            throw StrataError(.malformed, "file has \(n - previousEnd) bytes after its last section")
        }
        for k in SectionKind.required where sections[k] == nil {
            throw StrataError(.malformed, "required section \(k.name) is missing")
        }
        return (minor, sections)
    }

    // MARK: metadata and tensors

    static func readMetadata(_ body: UnsafeRawBufferPointer) throws(StrataError) -> [(key: String, value: String)] {
        var r = ByteReader(body, context: "METADATA")
        let count = try r.count("metadata entry count", max: FormatLimits.maxMetadataEntries)
        var seen = Set<String>()
        var entries: [(key: String, value: String)] = []
        for i in 0..<count {
            let key = try r.string("metadata key \(i)")
            let value = try r.string("metadata value '\(key)'", maxBytes: FormatLimits.maxMetadataValueBytes, allowEmpty: true)
            guard seen.insert(key).inserted else {
                throw StrataError(.malformed, "metadata key '\(key)' appears more than once")
            }
            entries.append((key, value))
        }
        try r.expectEnd()
        return entries
    }

    static func readTensors(_ body: UnsafeRawBufferPointer, dataStart: Int, dataSize: Int) throws(StrataError) -> [TensorDescriptor] {
        var r = ByteReader(body, context: "TENSORS")
        let count = try r.count("tensor count", max: FormatLimits.maxTensors)
        var tensors: [TensorDescriptor] = []
        var names = Set<String>()
        var expectedOffset = 0
        for i in 0..<count {
            let name = try r.string("name of tensor \(i)")
            let dtype = DType(rawValue: try r.u32("dtype of tensor '\(name)'"))
            let layout = try r.u32("layout of tensor '\(name)'")
            let rank = try r.count("rank of tensor '\(name)'", max: FormatLimits.maxRank)
            var dims: [Int] = []
            for d in 0..<rank {
                let v = try r.u64("dim \(d) of tensor '\(name)'")
                guard v <= UInt64(FormatLimits.maxDim) else {
                    throw StrataError(.malformed, "tensor '\(name)' dim \(d) is \(v), more than the limit of 2^32")
                }
                dims.append(Int(v))
            }
            let offset = try r.u64("offset of tensor '\(name)'")
            let size = try r.u64("byte size of tensor '\(name)'")
            guard names.insert(name).inserted else {
                throw StrataError(.malformed, "tensor name '\(name)' appears more than once")
            }
            guard dtype.info != nil else {
                throw StrataError(.unsupported, "tensor '\(name)' has unknown dtype id \(dtype.rawValue); this library knows \(DType.table.keys.sorted().map { "\($0) (\(DType(rawValue: $0)))" }.joined(separator: ", "))")
            }
            let tensorLayout = TensorLayout(rawValue: layout)
            guard TensorLayout.all.contains(tensorLayout) else {
                throw StrataError(.unsupported, "tensor '\(name)' has unknown layout \(layout); this library knows 0 (row-major), 1 (panel16) and 2 (panel16k4)")
            }
            guard tensorLayout == .rowMajor || dims.count == 2 else {
                throw StrataError(.malformed, tensorLayout == .panel16
                    ? "tensor '\(name)' has layout panel16, which needs a rank-2 f32, f16, bf16, int8 or int4 tensor, not \(dtype) \(describeShape(dims))"
                    : "tensor '\(name)' has layout \(tensorLayout), which needs a rank-2 int8 tensor, not \(dtype) \(describeShape(dims))")
            }
            guard tensorLayout != .panel16k4 || dtype == .int8 else {
                throw StrataError(.malformed, "tensor '\(name)' has layout panel16k4 (dynamic int8), which holds only int8 weights, not \(dtype)")
            }
            guard !dtype.isWeightOnly || tensorLayout == .panel16 || tensorLayout == .panel16k4 else {
                throw StrataError(.malformed, "tensor '\(name)' has dtype \(dtype), which is valid only in layout panel16\(dtype == .int8 ? " or panel16k4" : "") (a Linear weight), not \(tensorLayout)")
            }
            guard tensorLayout != .panel16k4 || dims[1] <= QuantizedPanel16.maxDynamicK else {
                throw StrataError(.malformed, "tensor '\(name)' \(describeShape(dims)) in layout panel16k4 has k = \(dims[1]), more than the limit of \(QuantizedPanel16.maxDynamicK) (its int32 dot products could overflow)")
            }
            guard let expectedSize = tensorLayout == .rowMajor
                    ? tensorLayout.storedElements(dims: dims).flatMap({ dtype.byteCount(elements: $0) })
                    : QuantizedPanel16(dtype: dtype, layout: tensorLayout, n: dims[0], k: dims[1])?.totalBytes else {
                throw StrataError(.malformed, "tensor '\(name)' shape \(describeShape(dims)) overflows or is not a whole number of \(dtype) blocks")
            }
            guard size == UInt64(expectedSize) else {
                throw StrataError(.malformed, "tensor '\(name)' byte size is \(size), but shape \(describeShape(dims)) of \(dtype) in layout \(tensorLayout) needs \(expectedSize)")
            }
            guard offset % UInt64(FormatConstants.tensorAlignment) == 0 else {
                throw StrataError(.malformed, "tensor '\(name)' offset \(offset) is not 64-byte aligned")
            }
            guard offset == UInt64(expectedOffset) else {
                throw StrataError(.malformed, "tensor '\(name)' is at offset \(offset), expected \(expectedOffset) (tensors must follow each other in order, without overlaps or holes)")
            }
            guard let end = checkedAdd(expectedOffset, expectedSize), end <= dataSize else {
                throw StrataError(.malformed, "tensor '\(name)' (offset \(offset), \(size) bytes) ends past the DATA section (\(dataSize) bytes)")
            }
            tensors.append(TensorDescriptor(name: name, dtype: dtype, layout: layout, dims: dims,
                                            fileOffset: dataStart + expectedOffset, byteCount: expectedSize))
            expectedOffset = alignUp(end, FormatConstants.tensorAlignment)!
        }
        try r.expectEnd()
        guard expectedOffset == dataSize else {
            throw StrataError(.malformed, "DATA section is \(dataSize) bytes but its tensors take \(expectedOffset)")
        }
        return tensors
    }

    static func checkZeroPadding(_ buf: UnsafeRawBufferPointer, tensors: [TensorDescriptor], dataStart: Int, dataSize: Int) throws(StrataError) {
        for (i, t) in tensors.enumerated() {
            let end = t.fileOffset + t.byteCount
            let next = i + 1 < tensors.count ? tensors[i + 1].fileOffset : dataStart + dataSize
            guard buf[end..<next].allSatisfy({ $0 == 0 }) else {
                throw StrataError(.malformed, "padding after tensor '\(t.name)' is not zero")
            }
        }
    }

    // MARK: graph

    static func readValueInfos(_ r: inout ByteReader, what: String, minor: UInt16) throws(StrataError) -> [ValueInfo] {
        let count = try r.count("graph \(what) count", max: FormatLimits.maxGraphIO)
        guard count >= 1 else { throw StrataError(.malformed, "graph has no \(what)s") }
        var infos: [ValueInfo] = []
        for i in 0..<count {
            let name = try r.string("name of graph \(what) \(i)")
            let dtype = DType(rawValue: try r.u32("dtype of graph \(what) '\(name)'"))
            let rank = try r.count("rank of graph \(what) '\(name)'", max: FormatLimits.maxRank)
            guard rank >= 1 else { throw StrataError(.malformed, "graph \(what) '\(name)' has rank 0; dimension 0 must be the batch") }
            var dims: [Int] = []
            for d in 0..<rank {
                let v = try r.i64("dim \(d) of graph \(what) '\(name)'")
                if d == 0 && minor < 5 {
                    guard v == -1 else { throw StrataError(.malformed, "graph \(what) '\(name)' dim 0 is \(v); it must be -1 (the dynamic batch)") }
                } else if v == -1 && minor >= 5 {
                    // 1.5: the batch may be any one dim (docs/FORMAT.md "Batch dimension").
                    guard !dims.contains(-1) else {
                        throw StrataError(.malformed, "graph \(what) '\(name)' has more than one dim -1; exactly one dim is the batch")
                    }
                } else {
                    guard v >= 1, v <= Int64(FormatLimits.maxDim) else {
                        throw StrataError(.malformed, "graph \(what) '\(name)' dim \(d) is \(v); it must be 1…2^32")
                    }
                }
                dims.append(Int(v))
            }
            guard dims.contains(-1) else {
                throw StrataError(.malformed, "graph \(what) '\(name)' shape \(describeShape(dims)) has no batch dim (-1)")
            }
            guard checkedProduct(dims.filter { $0 != -1 }) != nil else {
                throw StrataError(.malformed, "graph \(what) '\(name)' shape \(describeShape(dims)) overflows")
            }
            guard dtype == .f32 else {
                throw StrataError(.unsupported, "graph \(what) '\(name)' has dtype \(dtype); graph inputs and outputs are f32 in format 1.0")
            }
            infos.append(ValueInfo(name: name, dtype: dtype, dims: dims))
        }
        return infos
    }

    static func readNodes(_ r: inout ByteReader) throws(StrataError) -> [Node] {
        let count = try r.count("node count", max: FormatLimits.maxNodes)
        var nodes: [Node] = []
        nodes.reserveCapacity(min(count, 1024))
        for i in 0..<count {
            let op = try r.string("op of node \(i)")
            let name = try r.string("name of node \(i)", allowEmpty: true)
            let label = name.isEmpty ? "node \(i)" : "node \(i) '\(name)'"
            let nIn = try r.count("input count of \(label)", max: FormatLimits.maxNodeIO)
            var inputs: [String] = []
            for k in 0..<nIn { inputs.append(try r.string("input \(k) of \(label)", allowEmpty: true)) }
            let nOut = try r.count("output count of \(label)", max: FormatLimits.maxNodeIO)
            guard nOut >= 1 else { throw StrataError(.malformed, "\(label) has no outputs") }
            var outputs: [String] = []
            for k in 0..<nOut { outputs.append(try r.string("output \(k) of \(label)")) }
            let nAttr = try r.count("attribute count of \(label)", max: FormatLimits.maxAttributes)
            var attrs: [(key: String, value: AttributeValue)] = []
            for _ in 0..<nAttr {
                let key = try r.string("attribute name of \(label)")
                let type = try r.u32("type of attribute '\(key)' of \(label)")
                let value: AttributeValue
                switch type {
                case 1: value = .int(try r.i64("attribute '\(key)' of \(label)"))
                case 2: value = .float(try r.f32("attribute '\(key)' of \(label)"))
                case 3:
                    let n = try r.count("length of attribute '\(key)' of \(label)", max: FormatLimits.maxAttributeInts)
                    var v: [Int64] = []
                    for _ in 0..<n { v.append(try r.i64("attribute '\(key)' of \(label)")) }
                    value = .ints(v)
                case 4: value = .string(try r.string("attribute '\(key)' of \(label)", allowEmpty: true))
                default:
                    throw StrataError(.malformed, "attribute '\(key)' of \(label) has unknown type \(type)")
                }
                guard !attrs.contains(where: { $0.key == key }) else {
                    throw StrataError(.malformed, "attribute '\(key)' of \(label) appears more than once")
                }
                attrs.append((key, value))
            }
            nodes.append(Node(op: op, name: name, inputs: inputs, outputs: outputs, attributes: attrs))
        }
        return nodes
    }
}

/// Lower-case hex of a 32-bit value, 8 digits.
func hex(_ v: UInt32) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: max(0, 8 - s.count)) + s
}
