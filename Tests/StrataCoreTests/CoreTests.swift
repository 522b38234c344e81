import Testing
@testable import StrataCore

@Test func dtypeTableMatchesFormatSpec() {
    // docs/FORMAT.md, "DType table": id → (name, block, bytes per block). Append-only.
    #expect(DType.table.count == 5)
    #expect(DType.f32.info == DType.Info(name: "f32", blockSize: 1, bytesPerBlock: 4))
    #expect(DType(rawValue: 0).info == nil)
    #expect(DType(rawValue: 99).description == "dtype#99")
}

@Test func byteCountChecksOverflowAndBlocks() {
    #expect(DType.f32.byteCount(elements: 10) == 40)
    #expect(DType.f32.byteCount(elements: Int.max / 2) == nil)
    #expect(DType.f32.byteCount(elements: -1) == nil)
    #expect(DType(rawValue: 7).byteCount(elements: 1) == nil)
}

@Test func checkedArithmetic() {
    #expect(checkedMul(Int.max, 2) == nil)
    #expect(checkedAdd(Int.max, 1) == nil)
    #expect(checkedProduct([2, 3, 4]) == 24)
    #expect(checkedProduct([Int]()) == 1)
    #expect(checkedProduct([1 << 32, 1 << 32]) == nil)
    #expect(checkedProduct([-1, 2]) == nil)
    #expect(alignUp(65, 64) == 128)
    #expect(alignUp(64, 64) == 64)
    #expect(alignUp(Int.max - 3, 64) == nil)
}

@Test(arguments: [
    (Status.ok, "OK", 0), (.invalidArgument, "INVALID_ARGUMENT", -1), (.nullPointer, "NULL_POINTER", -2),
    (.ioError, "IO_ERROR", -3), (.truncated, "TRUNCATED", -4), (.badMagic, "BAD_MAGIC", -5),
    (.unsupportedVersion, "UNSUPPORTED_VERSION", -6), (.checksumMismatch, "CHECKSUM_MISMATCH", -7),
    (.malformed, "MALFORMED", -8), (.unsupported, "UNSUPPORTED", -9), (.shapeMismatch, "SHAPE_MISMATCH", -10),
    (.bufferTooSmall, "BUFFER_TOO_SMALL", -11), (.outOfMemory, "OUT_OF_MEMORY", -12), (.internalError, "INTERNAL", -13),
    (.cancelled, "CANCELLED", -14), (.sessionBusy, "SESSION_BUSY", -15),
])
func statusCodesAreAppendOnly(status: Status, name: String, raw: Int32) {
    #expect(status.rawValue == raw)
    #expect(status.name == name)
    #expect("\(status.summary)" != "unknown status")
}

@Test func unknownStatusIsRepresentable() {
    let s = Status(rawValue: -1000)
    #expect(s.name == "UNKNOWN(-1000)")
    #expect("\(s.summary)" == "unknown status")
}
