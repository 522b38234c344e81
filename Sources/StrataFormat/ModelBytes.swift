#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif hasFeature(Embedded)
import CStrataLibc  // Embedded Swift (the `make lib` build) has no Glibc module
#endif
import StrataCore

/// The bytes of a model file: a read-only `mmap` of a file, or an owned, 64-byte-aligned copy.
///
/// Owns the memory; every view into it keeps this object alive. `deinit` unmaps or frees.
public final class ModelBytes: @unchecked Sendable {
    /// Start of the bytes (64-byte aligned).
    public let base: UnsafeRawPointer
    /// Number of bytes.
    public let count: Int
    private let isMapped: Bool

    /// The whole buffer. Valid only while this object is alive: keep a reference to it (or use
    /// `withExtendedLifetime`) for as long as the buffer is used — `ModelBytes.mapping(…).buffer`
    /// in one expression may be unmapped before the buffer is read.
    public var buffer: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    private init(base: UnsafeRawPointer, count: Int, isMapped: Bool) {
        self.base = base
        self.count = count
        self.isMapped = isMapped
    }

    deinit {
        if isMapped {
            munmap(UnsafeMutableRawPointer(mutating: base), count)
        } else {
            free(UnsafeMutableRawPointer(mutating: base))
        }
    }

    /// Copies `bytes` into a new 64-byte-aligned buffer.
    /// - Throws: `outOfMemory` when the copy cannot be allocated (never aborts).
    public static func copying(_ bytes: UnsafeRawBufferPointer) throws(StrataError) -> ModelBytes {
        let n = bytes.count
        var p: UnsafeMutableRawPointer? = nil
        guard posix_memalign(&p, 64, max(n, 1)) == 0, let p else {
            throw StrataError(.outOfMemory, "cannot allocate \(n) bytes to copy the model image")
        }
        if n > 0, let src = bytes.baseAddress { p.copyMemory(from: src, byteCount: n) }
        return ModelBytes(base: UnsafeRawPointer(p), count: n, isMapped: false)
    }

    /// Maps the file at `path` read-only.
    /// - Throws: `ioError` when the file cannot be opened, is not a regular file or cannot be
    ///   mapped; `truncated` when it is empty.
    public static func mapping(path: String) throws(StrataError) -> ModelBytes {
        // withCString rethrows untyped errors: carry the typed one out as a Result.
        try path.withCString { cPath in Result { () throws(StrataError) in try mapping(cPath: cPath) } }.get()
    }

    /// Maps the file at the NUL-terminated `cPath` read-only. The bytes are passed to `open`
    /// unchanged (Linux file names need not be UTF-8); they are decoded only for messages.
    public static func mapping(cPath: UnsafePointer<CChar>) throws(StrataError) -> ModelBytes {
        let path = String(cString: cPath)
        let fd = open(cPath, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            throw StrataError(.ioError, "cannot open '\(path)': \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw StrataError(.ioError, "cannot stat '\(path)': \(String(cString: strerror(errno)))")
        }
        guard (st.st_mode & mode_t(S_IFMT)) == mode_t(S_IFREG) else {
            throw StrataError(.ioError, "'\(path)' is not a regular file")
        }
        let size = Int(st.st_size)
        guard size > 0 else {
            throw StrataError(.truncated, "'\(path)' is empty (0 bytes); a .strata file has at least a 64-byte header")
        }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw StrataError(.ioError, "cannot map '\(path)' (\(size) bytes): \(String(cString: strerror(errno)))")
        }
        return ModelBytes(base: UnsafeRawPointer(p), count: size, isMapped: true)
    }
}
