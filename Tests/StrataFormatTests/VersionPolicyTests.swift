import Testing
@testable import StrataCore
@testable import StrataFormat

// docs/FORMAT.md "Versioning": a newer major is rejected with a message naming both versions;
// a newer minor with optional sections this reader does not know is read, skipping them.

@Test func newerMajorIsRejectedByName() {
    for major: UInt16 in [2, 9, 0xFFFF] {
        var v = Fixtures.valid()
        v[8] = UInt8(major & 0xFF); v[9] = UInt8(major >> 8)
        v[10] = 3  // minor
        Fixtures.refreshCRCs(&v)
        expectRejected(v, .unsupportedVersion, "file format version \(major).3 is not supported; this library reads version 1.x")
    }
}

@Test func newerMinorWithUnknownOptionalSectionsIsRead() throws {
    let v = ModelWriter.serialize(selfTestSpec())
    var sections: [(SectionKind, [UInt8])] = SectionKind.required.map { k in
        let s = Fixtures.section(v, k)
        return (k, Array(v[s.offset..<(s.offset + s.size)]))
    }
    sections.append((.selfTest, Array(repeating: 0xAB, count: 12)))  // placeholder, retagged below
    var bytes = ModelWriter.assemble(sections, minor: 7)
    // Turn the placeholder into kind 200, optional: a section from format 1.7.
    let entry = Fixtures.section(bytes, .selfTest).entry
    Fixtures.put32(&bytes, entry, 200)
    Fixtures.put32(&bytes, entry + 4, FormatConstants.sectionFlagOptional)
    Fixtures.refreshCRCs(&bytes)
    let file = try Fixtures.read(bytes)
    #expect(file.version == (1, 7))
    #expect(Integrity.sections(of: file).map(\.kind) == [1, 2, 3, 4, 200])
}

@Test func unknownSectionWithoutOptionalFlagNeedsANewerReader() {
    var bytes = ModelWriter.serialize(selfTestSpec())
    let entry = Fixtures.section(bytes, .selfTest).entry
    Fixtures.put32(&bytes, entry, 200)
    Fixtures.put32(&bytes, entry + 4, 0)
    Fixtures.refreshCRCs(&bytes)
    expectRejected(bytes, .malformed, "unknown kind 200 and is not optional: the file needs a newer reader")
}
