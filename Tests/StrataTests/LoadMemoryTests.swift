import CStrataABI
import StrataFormat
import Testing

/// Edits a valid image, optionally re-sealing the header CRC so that only the edit is wrong.
func corrupted(_ edit: (inout [UInt8]) -> Void, resealHeader: Bool = false) -> [UInt8] {
    var bytes = TestModels.classifier
    edit(&bytes)
    if resealHeader {
        let crc = bytes.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<60])) }
        withUnsafeBytes(of: crc.littleEndian) { bytes.replaceSubrange(60..<64, with: $0) }
    }
    return bytes
}

struct BadImage: Sendable, CustomTestStringConvertible {
    var name: String
    var bytes: [UInt8]
    var status: Int32
    var message: String
    var testDescription: String { name }
}

let badImages: [BadImage] = {
    let good = TestModels.classifier
    var unknownOp = TestModels.classifierSpec()
    unknownOp.nodes[2].op = "Frobnicate"
    var wrongOutput = TestModels.classifierSpec()
    wrongOutput.outputs[0].dims = [-1, 4]
    return [
        BadImage(name: "empty", bytes: [], status: STRATA_STATUS_TRUNCATED, message: "0 bytes"),
        BadImage(name: "shorter than the header", bytes: Array(good.prefix(63)), status: STRATA_STATUS_TRUNCATED, message: "64-byte header"),
        BadImage(name: "shorter than file_size", bytes: Array(good.dropLast()), status: STRATA_STATUS_TRUNCATED, message: "truncated"),
        BadImage(name: "bad magic", bytes: corrupted { $0[0] = UInt8(ascii: "X") }, status: STRATA_STATUS_BAD_MAGIC, message: "magic"),
        BadImage(name: "not a model at all", bytes: Array("#!/bin/sh\necho hello, this is not a model file at all....................".utf8),
                 status: STRATA_STATUS_BAD_MAGIC, message: "not a .strata file"),
        BadImage(name: "version 2", bytes: corrupted({ $0[8] = 2 }, resealHeader: true), status: STRATA_STATUS_UNSUPPORTED_VERSION, message: "2.0"),
        BadImage(name: "header byte flipped", bytes: corrupted { $0[44] ^= 1 }, status: STRATA_STATUS_CHECKSUM_MISMATCH, message: "header checksum"),
        BadImage(name: "a weight byte flipped (DATA is the last 128 bytes)", bytes: corrupted { $0[$0.count - 128 + 7] ^= 0x40 }, status: STRATA_STATUS_CHECKSUM_MISMATCH, message: "DATA"),
        BadImage(name: "header flags set", bytes: corrupted({ $0[28] = 1 }, resealHeader: true), status: STRATA_STATUS_MALFORMED, message: "flags"),
        BadImage(name: "trailing byte", bytes: corrupted({ $0.append(0) }), status: STRATA_STATUS_MALFORMED, message: "trailing"),
        BadImage(name: "unknown op", bytes: ModelWriter.serialize(unknownOp), status: STRATA_STATUS_UNSUPPORTED, message: "'Frobnicate'"),
        BadImage(name: "declared output shape wrong", bytes: ModelWriter.serialize(wrongOutput), status: STRATA_STATUS_SHAPE_MISMATCH, message: "scores"),
    ]
}()

@Suite("strata_model_load_memory")
struct LoadMemoryTests {
    @Test("a valid image loads and runs")
    func loads() throws {
        try withLoaded { loaded in
            let (status, output) = loaded.run(batch: 2, TestModels.input)
            #expect(status == STRATA_STATUS_OK)
            #expect(output == [1, 1, 10.5, 0, 0, 0])
            #expect(output == TestModels.expected(TestModels.input))
        }
    }

    @Test("a bad image fails with its specific status and message; *out_model is NULL", arguments: badImages)
    func rejects(image: BadImage) {
        let (status, model) = loadMemory(image.bytes)
        #expect(status == image.status, "\(lastError())")
        #expect(model == nil)
        #expect(lastError().contains(image.message), "\(lastError())")
    }

    @Test("the image is copied: the caller may overwrite its bytes right after loading")
    func copiesBytes() {
        var bytes = TestModels.classifier
        var model: OpaquePointer? = nil
        let status = bytes.withUnsafeBytes { strata_model_load_memory($0.baseAddress, $0.count, &model) }
        #expect(status == STRATA_STATUS_OK)
        for i in bytes.indices { bytes[i] = 0xFF }
        var session: OpaquePointer? = nil
        #expect(strata_session_create(model, nil, &session) == STRATA_STATUS_OK)
        #expect(runSession(session, batch: 2, TestModels.input, outputCount: 6).output == [1, 1, 10.5, 0, 0, 0])
        strata_session_free(session)
        strata_model_free(model)
    }

    @Test("NULL data with size 0 is NULL_POINTER naming 'data'")
    func nullData() {
        var model = garbagePointer
        #expect(strata_model_load_memory(nil, 0, &model) == STRATA_STATUS_NULL_POINTER)
        #expect(model == nil)
        #expect(lastError().contains("'data'"))
    }
}
