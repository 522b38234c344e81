import StrataCore
import Testing
@testable import StrataCore
@testable import StrataFormat

@Test func crc32MatchesZlib() {
    #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    #expect(CRC32.checksum([UInt8]()) == 0)
    // Pinned with Python: zlib.crc32(bytes(i & 255 for i in range(768))) == 0xb0c0df2a
    let bytes = (0..<768).map { UInt8($0 & 0xFF) }
    #expect(CRC32.checksum(bytes) == 0xb0c0df2a)
    // Incremental use equals one shot, at every split (exercises the 8-byte fast path and tail).
    let whole = CRC32.checksum(bytes)
    for split in [0, 1, 7, 8, 9, 100, 767] {
        let a = CRC32.checksum(Array(bytes[..<split]))
        let b = bytes[split...].withUnsafeBytes { CRC32.checksum($0, continuing: a) }
        #expect(b == whole)
    }
}

@Test func writerOutputReadsBackIdentically() throws {
    let spec = Fixtures.mlpSpec()
    let bytes = ModelWriter.serialize(spec)
    #expect(bytes.count % 64 == 0)
    let file = try Fixtures.read(bytes)
    #expect(file.version.major == 1 && file.version.minor == 0)
    #expect(file.metadataValue("producer") == "strata tests")
    #expect(file.metadataValue("class_labels") == "no\nyes")
    #expect(file.inputs == spec.inputs)
    #expect(file.outputs == spec.outputs)
    #expect(file.nodes == spec.nodes)
    #expect(file.tensors.map(\.name) == ["fc1.weight", "fc1.bias", "fc2.weight"])
    for (t, s) in zip(file.tensors, spec.tensors) {
        #expect(t.dims == s.dims)
        #expect(t.fileOffset % 64 == 0)
        let values = Array(file.data(of: t).bindMemory(to: Float.self))
        #expect(values == s.values)
    }
}

@Test func serializationIsDeterministic() {
    #expect(Fixtures.valid() == Fixtures.valid())
}

@Test func attributesOfEveryTypeRoundTrip() throws {
    let bytes = Fixtures.with { s in
        s.nodes.insert(Node(op: "Reshape", name: "r", inputs: ["x"], outputs: ["x2"], attributes: [("shape", .ints([-1, 4]))]), at: 0)
        s.nodes[1].inputs[0] = "x2"
        s.nodes.append(Node(op: "Softmax", name: "sm", inputs: ["logits"], outputs: ["probs"], attributes: [("axis", .int(-1))]))
        s.outputs = [ValueInfo(name: "probs", dims: [-1, 2])]
    }
    let file = try Fixtures.read(bytes)
    #expect(file.nodes.first?.attribute("shape") == .ints([-1, 4]))
    #expect(file.nodes.last?.attribute("axis") == .int(-1))
}

@Test func fileMappingReadsTheSameModel() throws {
    let path = "/tmp/strata-format-test-\(getpid()).strata"
    try ModelWriter.write(Fixtures.valid(), to: path)
    defer { unlink(path) }
    let file = try ModelReader.read(path: path)
    #expect(file.fileSize == Fixtures.valid().count)
    #expect(Int(bitPattern: file.bytes.base) % 4096 == 0)
}

@Test func missingFileIsAnIOError() {
    #expect(throws: StrataError.self) { try ModelReader.read(path: "/nonexistent/model.strata") }
    do { _ = try ModelReader.read(path: "/nonexistent/model.strata") } catch let e as StrataError {
        #expect(e.status == .ioError)
        #expect(e.message.contains("/nonexistent/model.strata"))
    } catch {}
    do { _ = try ModelReader.read(path: "/tmp") } catch let e as StrataError {
        #expect(e.status == .ioError)
        #expect(e.message.contains("not a regular file"))
    } catch {}
}

#if canImport(Glibc)
import Glibc
#endif
