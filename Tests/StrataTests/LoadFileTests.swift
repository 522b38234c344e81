#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CStrataABI
import StrataFormat
import Testing

/// A fresh temporary directory, removed with its files at deinit.
final class TemporaryDirectory {
    let path: String
    private var files: [String] = []

    init() {
        var template = Array("/tmp/strata-tests-XXXXXX".utf8CString)
        path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }

    /// Writes `bytes` to `name` in the directory and returns the full path.
    func file(_ name: String, _ bytes: [UInt8]) throws -> String {
        let p = path + "/" + name
        try ModelWriter.write(bytes, to: p)
        files.append(p)
        return p
    }

    deinit {
        for f in files { unlink(f) }
        rmdir(path)
    }
}

func loadFile(_ path: String) -> (status: Int32, model: OpaquePointer?) {
    var model = garbagePointer
    let status = strata_model_load_file(path, &model)
    return (status, model)
}

@Suite("strata_model_load_file")
struct LoadFileTests {
    @Test("a valid file loads, runs, and keeps working after the file is deleted")
    func loads() throws {
        let dir = TemporaryDirectory()
        let path = try dir.file("classifier.strata", TestModels.classifier)
        let (status, model) = loadFile(path)
        #expect(status == STRATA_STATUS_OK, "\(lastError())")
        unlink(path)
        var session: OpaquePointer? = nil
        #expect(strata_session_create(model, nil, &session) == STRATA_STATUS_OK)
        #expect(runSession(session, batch: 2, TestModels.input, outputCount: 6).output == [1, 1, 10.5, 0, 0, 0])
        strata_session_free(session)
        strata_model_free(model)
    }

    @Test("a missing file is IO_ERROR naming the path; *out_model is NULL")
    func missing() {
        let path = "/tmp/strata-tests-no-such-dir/missing-\(getpid()).strata"
        let (status, model) = loadFile(path)
        #expect(status == STRATA_STATUS_IO_ERROR)
        #expect(model == nil)
        #expect(lastError().contains(path), "\(lastError())")
    }

    @Test("a directory is IO_ERROR naming the path")
    func directory() {
        let dir = TemporaryDirectory()
        #expect(loadFile(dir.path).status == STRATA_STATUS_IO_ERROR)
        #expect(lastError().contains(dir.path), "\(lastError())")
    }

    @Test("an empty file is TRUNCATED; a corrupted file names its path in the message")
    func badFiles() throws {
        let dir = TemporaryDirectory()
        let empty = try dir.file("empty.strata", [])
        #expect(loadFile(empty).status == STRATA_STATUS_TRUNCATED)
        #expect(lastError().contains(empty), "\(lastError())")
        let bad = try dir.file("bad.strata", corrupted { $0[0] = 0 })
        #expect(loadFile(bad).status == STRATA_STATUS_BAD_MAGIC)
        #expect(lastError().contains(bad), "\(lastError())")
        let truncated = try dir.file("truncated.strata", Array(TestModels.classifier.dropLast(10)))
        #expect(loadFile(truncated).status == STRATA_STATUS_TRUNCATED)
        #expect(lastError().contains(truncated), "\(lastError())")
    }
}
