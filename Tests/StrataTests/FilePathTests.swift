#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CStrataABI
import Testing

@Suite("File paths")
struct FilePathTests {
    /// Linux file names are bytes, not necessarily UTF-8: "café" in Latin-1 is `63 61 66 E9`.
    @Test("a file whose name is not UTF-8 loads by its exact bytes")
    func nonUTF8Path() throws {
        let dir = TemporaryDirectory()
        let path: [CChar] = (Array(dir.path.utf8) + Array("/caf".utf8) + [0xE9] + Array(".strata".utf8) + [0])
            .map { CChar(bitPattern: $0) }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        try #require(fd >= 0)
        defer { unlink(path) }
        let written = TestModels.classifier.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        try #require(written == TestModels.classifier.count)

        var model: OpaquePointer? = nil
        let status = strata_model_load_file(path, &model)
        #expect(status == STRATA_STATUS_OK, "\(lastError())")
        strata_model_free(model)
    }
}
