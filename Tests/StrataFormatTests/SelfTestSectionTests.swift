import Testing
@testable import StrataCore
@testable import StrataFormat

// The SELFTEST section and the payload digest, through the Swift writer and reader. The
// rejection of each malformed variant is in the fixture files (FixtureFileTests.swift).

func selfTestSpec() -> ModelSpec {
    var spec = Fixtures.mlpSpec()
    spec.selfTest = SelfTestData(sampleCount: 2, absoluteTolerance: 1e-4, relativeTolerance: 1e-3,
                                 inputs: [[1, 2, 3, 4, -1, -2, -3, -4]], outputs: [[0.5, -0.5, 1.5, 2.5]])
    return spec
}

@Test func selfTestRoundTrips() throws {
    let bytes = ModelWriter.serialize(selfTestSpec())
    let file = try Fixtures.read(bytes)
    #expect(file.selfTest == selfTestSpec().selfTest)
    #expect(file.version.minor == 1, "a file with a SELFTEST section is written as 1.1")
    let entry = Fixtures.section(bytes, .selfTest)
    #expect(Fixtures.u32(bytes, entry.entry + 4) == FormatConstants.sectionFlagOptional, "written optional, so 1.0 readers skip it")
}

@Test func plainFilesStayVersion10() throws {
    let file = try Fixtures.read(Fixtures.valid())
    #expect(file.version.minor == 0)
    #expect(file.selfTest == nil)
}

@Test func selfTestSampleCountMustMatchTheValues() {
    var spec = selfTestSpec()
    spec.selfTest!.sampleCount = 3  // 3 samples announced, 2 stored
    expectRejected(ModelWriter.serialize(spec), .malformed, "ends inside the values of output 'logits' (3 samples of [N, 2], 0 bytes left)")
}

@Test func selfTestSectionIsAcceptedByReadersThatSkipIt() throws {
    // A 1.0 reader sees kind 5 as an unknown optional kind; the generic skip rule must accept it.
    var bytes = ModelWriter.serialize(selfTestSpec())
    let entry = Fixtures.section(bytes, .selfTest).entry
    Fixtures.put32(&bytes, entry, 99)  // as if the kind were unknown
    Fixtures.refreshCRCs(&bytes)
    let file = try Fixtures.read(bytes)
    #expect(file.selfTest == nil)
}

@Test func payloadDigestIsRecordedAndVerified() throws {
    var spec = selfTestSpec()
    spec.recordsPayloadSHA256 = true
    let bytes = ModelWriter.serialize(spec)
    let file = try Fixtures.read(bytes)
    let recorded = try #require(file.metadataValue(Integrity.sha256Key))
    let report = try Integrity.verify(file)
    #expect(report.sha256 == recorded)
    #expect(report.sections.map(\.name) == ["METADATA", "TENSORS", "GRAPH", "DATA", "SELFTEST"])
    // The digest covers every section but METADATA, in table order.
    var h = SHA256()
    for kind in [SectionKind.tensors, .graph, .data, .selfTest] {
        let s = Fixtures.section(bytes, kind)
        h.update(Array(bytes[s.offset..<(s.offset + s.size)]))
    }
    #expect(SHA256.hex(h.finalize()) == recorded)
}

@Test func payloadDigestMismatchIsReportedOnVerify() throws {
    var spec = Fixtures.mlpSpec()
    spec.recordsPayloadSHA256 = true
    var bytes = ModelWriter.serialize(spec)
    let data = Fixtures.section(bytes, .data)
    bytes[data.offset] ^= 1          // a weight changes...
    Fixtures.refreshCRCs(&bytes)     // ...and the CRCs are forged to match
    let file = try Fixtures.read(bytes)   // loads: CRCs agree, the digest is not read at load
    #expect(throws: StrataError.self) { try Integrity.verify(file) }
    do throws(StrataError) { _ = try Integrity.verify(file) } catch let e {
        #expect(e.status == .checksumMismatch)
        #expect(e.message.contains("payload SHA-256 mismatch"))
    }
}

@Test func verifyFindsCRCErrorsSkippedAtLoad() throws {
    var bytes = Fixtures.valid()
    let data = Fixtures.section(bytes, .data)
    bytes[data.offset] ^= 0x01
    let file = try Fixtures.read(bytes, verify: false)
    do throws(StrataError) {
        _ = try Integrity.verify(file)
        Issue.record("verify accepted a DATA section whose CRC does not match")
    } catch let e {
        #expect(e.status == .checksumMismatch)
        #expect(e.message.contains("section 3 (DATA) checksum mismatch"))
    }
    #expect(try Integrity.verify(file, checkingCRCs: false).sections.isEmpty)
}
