import Testing
@testable import StrataCore
@testable import StrataFormat

// One test per rule of docs/FORMAT.md, "A reader rejects", asserting the specific status.

@Test func rule1_truncated() {
    let v = Fixtures.valid()
    expectRejected([], .truncated, "shorter than the 64-byte header")
    expectRejected(Array(v[0..<63]), .truncated, "shorter than the 64-byte header")
    expectRejected(Array(v.dropLast(1)), .truncated, "truncated")
    expectRejected(Array(v[0..<64]), .truncated, "truncated")
}

@Test func rule2_badMagic() {
    var v = Fixtures.valid()
    v[0] = UInt8(ascii: "X")
    expectRejected(v, .badMagic, "not a .strata file")
    expectRejected(Array("PK\u{3}\u{4} this is a zip file, not a model at all, padded to 64 bytes......".utf8), .badMagic, "magic")
}

@Test func rule3_unsupportedVersion() {
    var v = Fixtures.valid()
    v[8] = 2
    expectRejected(v, .unsupportedVersion, "version 2.0")
    var w = Fixtures.valid()
    w[8] = 0
    expectRejected(w, .unsupportedVersion, "version 0.0")
}

@Test func minorVersionIsAccepted() throws {
    var v = Fixtures.valid()
    v[10] = 7
    Fixtures.refreshCRCs(&v)
    #expect(try Fixtures.read(v).version.minor == 7)
}

@Test func rule4_checksums() {
    var header = Fixtures.valid()
    header[16] ^= 1  // file_size, header CRC not refreshed
    expectRejected(header, .checksumMismatch, "header checksum")
    for kind in SectionKind.required {
        var v = Fixtures.valid()
        let s = Fixtures.section(v, kind)
        guard s.size > 0 else { continue }
        v[s.offset + s.size / 2] ^= 0x40
        expectRejected(v, .checksumMismatch, "section \(kind.name) checksum")
    }
}

@Test func checksumsCanBeSkippedForTrustedFiles() throws {
    var v = Fixtures.valid()
    let data = Fixtures.section(v, .data)
    v[data.offset] ^= 0x01  // flips a weight's low bit
    _ = try Fixtures.read(v, verify: false)
}

@Test func rule5_headerFields() {
    func mutated(_ edit: (inout [UInt8]) -> Void) -> [UInt8] {
        var v = Fixtures.valid()
        edit(&v)
        Fixtures.refreshCRCs(&v)
        return v
    }
    expectRejected(mutated { Fixtures.put32(&$0, 12, 65) }, .malformed, "header_size")
    expectRejected(mutated { Fixtures.put32(&$0, 28, 1) }, .malformed, "flags")
    expectRejected(mutated { $0[45] = 1 }, .malformed, "reserved header bytes")
    expectRejected(mutated { Fixtures.put64(&$0, 32, 128) }, .malformed, "section_table_offset")
    expectRejected(mutated { Fixtures.put32(&$0, 24, 0) }, .malformed, "section_count")
    expectRejected(mutated { Fixtures.put32(&$0, 24, 65) }, .malformed, "section_count")
    expectRejected(mutated { Fixtures.put64(&$0, 16, UInt64.max) }, .truncated, "declares")
}

@Test func rule5_trailingBytes() {
    var v = Fixtures.valid() + [0, 0, 0, 0]
    Fixtures.refreshCRCs(&v)
    expectRejected(v, .malformed, "trailing garbage")
}

@Test func rule5_sectionLayout() {
    func mutated(_ edit: (inout [UInt8]) -> Void) -> [UInt8] {
        var v = Fixtures.valid()
        edit(&v)
        Fixtures.refreshCRCs(&v)
        return v
    }
    let meta = Fixtures.section(Fixtures.valid(), .metadata)
    let graph = Fixtures.section(Fixtures.valid(), .graph)
    // Offset moved by 8: a hole (or overlap) between sections.
    expectRejected(mutated { Fixtures.put64(&$0, meta.entry + 8, UInt64(meta.offset + 8)) }, .malformed, "expected \(meta.offset)")
    // Offset past the end of the file.
    expectRejected(mutated { Fixtures.put64(&$0, graph.entry + 8, UInt64.max - 4) }, .truncated, "past the end of the file")
    // Size past the end.
    expectRejected(mutated { Fixtures.put64(&$0, graph.entry + 16, 1 << 40) }, .truncated, "past the end of the file")
    // Unknown flags, reserved bytes.
    expectRejected(mutated { Fixtures.put32(&$0, meta.entry + 4, 2) }, .malformed, "unknown flags")
    expectRejected(mutated { Fixtures.put32(&$0, meta.entry + 28, 1) }, .malformed, "reserved")
    // Unknown kind, not optional.
    expectRejected(mutated { Fixtures.put32(&$0, meta.entry, 99) }, .malformed, "unknown kind 99")
    // Repeated kind.
    expectRejected(mutated { Fixtures.put32(&$0, graph.entry, SectionKind.metadata.rawValue) }, .malformed, "more than once")
    // Non-zero padding before the DATA section (if the layout has any).
    let data = Fixtures.section(Fixtures.valid(), .data)
    let graphEnd = graph.offset + graph.size
    if data.offset > graphEnd {
        expectRejected(mutated { $0[graphEnd] = 1 }, .malformed, "padding before section")
    }
}

@Test func optionalUnknownSectionIsSkipped() throws {
    // A minor-version writer may add optional sections; rebuild the file with one more.
    let v = Fixtures.valid()
    var sections: [(SectionKind, [UInt8])] = []
    for k in SectionKind.required {
        let s = Fixtures.section(v, k)
        sections.append((k, Array(v[s.offset..<(s.offset + s.size)])))
    }
    var bytes = ModelWriter.assemble(sections)
    _ = try Fixtures.read(bytes)
    // Turn METADATA's table entry into an optional unknown kind, and append a real METADATA is
    // not possible in place; instead check an optional unknown kind alone is skipped but then
    // METADATA is reported missing — proving the skip happened.
    let meta = Fixtures.section(bytes, .metadata)
    Fixtures.put32(&bytes, meta.entry, 77)
    Fixtures.put32(&bytes, meta.entry + 4, FormatConstants.sectionFlagOptional)
    Fixtures.refreshCRCs(&bytes)
    expectRejected(bytes, .malformed, "required section METADATA is missing")
}

@Test func rule6_countsBeyondCaps() {
    var v = Fixtures.valid()
    let meta = Fixtures.section(v, .metadata)
    Fixtures.put32(&v, meta.offset, 5000)
    Fixtures.refreshCRCs(&v)
    expectRejected(v, .malformed, "more than the limit of 1024")

    var t = Fixtures.valid()
    let tensors = Fixtures.section(t, .tensors)
    Fixtures.put32(&t, tensors.offset, UInt32.max)
    Fixtures.refreshCRCs(&t)
    expectRejected(t, .malformed, "more than the limit")

    // A string length pointing far past the section.
    var s = Fixtures.valid()
    Fixtures.put32(&s, meta.offset + 4, 1000)
    Fixtures.refreshCRCs(&s)
    expectRejected(s, .malformed, "ends inside")
}

@Test func rule7_invalidUTF8AndLeftoverBytes() {
    var v = Fixtures.valid()
    let meta = Fixtures.section(v, .metadata)
    v[meta.offset + 8] = 0xFF  // first byte of the first key
    Fixtures.refreshCRCs(&v)
    expectRejected(v, .malformed, "not valid UTF-8")

    // Declare one metadata entry fewer: the last entry's bytes are left over.
    var w = Fixtures.valid()
    Fixtures.put32(&w, meta.offset, 1)
    Fixtures.refreshCRCs(&w)
    expectRejected(w, .malformed, "unexpected bytes")
}

@Test func rule8_unknownDtype() {
    var v = Fixtures.valid()
    let tensors = Fixtures.section(v, .tensors)
    // First tensor: count(4) + name length(4) + "fc1.weight"(10) → dtype at +18.
    Fixtures.put32(&v, tensors.offset + 18, 42)
    Fixtures.refreshCRCs(&v)
    expectRejected(v, .unsupported, "unknown dtype id 42")
    var w = Fixtures.valid()
    Fixtures.put32(&w, tensors.offset + 22, 3)  // layout
    Fixtures.refreshCRCs(&w)
    expectRejected(w, .unsupported, "unknown layout 3")
}

@Test func rule9_tensorPlacement() {
    let v = Fixtures.valid()
    let tensors = Fixtures.section(v, .tensors)
    // First tensor: dims at +30 (rank at +26), offset at +46, byte size at +54.
    func mutated(_ edit: (inout [UInt8]) -> Void) -> [UInt8] {
        var b = v
        edit(&b)
        Fixtures.refreshCRCs(&b)
        return b
    }
    expectRejected(mutated { Fixtures.put64(&$0, tensors.offset + 46, 8) }, .malformed, "not 64-byte aligned")
    expectRejected(mutated { Fixtures.put64(&$0, tensors.offset + 46, 64) }, .malformed, "expected 0")
    expectRejected(mutated { Fixtures.put64(&$0, tensors.offset + 54, 44) }, .malformed, "byte size is 44")
    expectRejected(mutated { Fixtures.put64(&$0, tensors.offset + 30, 1 << 40) }, .malformed, "limit of 2^32")
    expectRejected(mutated { Fixtures.put64(&$0, tensors.offset + 30, 1 << 31); Fixtures.put64(&$0, tensors.offset + 38, 1 << 31) },
                   .malformed, "overflows")
    // Non-zero padding between tensors.
    let data = Fixtures.section(v, .data)
    expectRejected(mutated { $0[data.offset + 48 + 1] = 1 }, .malformed, "padding after tensor 'fc1.weight'")
}

@Test func rule10_graphReferences() {
    expectRejected(Fixtures.with { $0.nodes[1].inputs = ["nope"] }, .malformed, "input 0 'nope' is not")
    expectRejected(Fixtures.with { $0.nodes.swapAt(0, 1) }, .malformed, "'h' is not")  // use before definition
    expectRejected(Fixtures.with { $0.nodes[1].outputs = ["h"] }, .malformed, "already defined")
    expectRejected(Fixtures.with { $0.nodes[1].outputs = ["fc1.bias"] }, .malformed, "also a tensor name")
    expectRejected(Fixtures.with { $0.outputs[0].name = "missing" }, .malformed, "graph output 'missing' is not defined")
    expectRejected(Fixtures.with { $0.outputs.append($0.outputs[0]) }, .malformed, "listed twice")
    expectRejected(Fixtures.with { $0.nodes[0].inputs[1] = "" }, .malformed, "is empty but is required")
    expectRejected(Fixtures.with { $0.nodes[1].inputs.append("x") }, .malformed, "has 2 inputs")
    expectRejected(Fixtures.with { $0.nodes[1].attributes = [("axis", .int(1))] }, .unsupported, "does not take")
    expectRejected(Fixtures.with { $0.nodes.append(Node(op: "Softmax", name: "s", inputs: ["logits"], outputs: ["p"],
                                                         attributes: [("axis", .float(1))])) }, .malformed, "has type 2")
    expectRejected(Fixtures.with { $0.inputs[0].dims = [4, 4] }, .malformed, "must be -1")
    expectRejected(Fixtures.with { $0.inputs[0].dims = [-1, 0] }, .malformed, "must be 1")
    expectRejected(Fixtures.with { $0.inputs[0].dims = [] }, .malformed, "rank 0")
    expectRejected(Fixtures.with { $0.inputs = [] }, .malformed, "no inputs")
}

@Test func rule11_unknownOp() {
    expectRejected(Fixtures.with { $0.nodes[1].op = "Frobnicate" }, .unsupported, "op 'Frobnicate'")
}
