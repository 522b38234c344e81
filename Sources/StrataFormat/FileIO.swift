// Everything in StrataFormat that touches the operating system, and the module's one import of the
// C library: mapping or copying a model's bytes, and writing a file atomically. Normal Swift gets
// libc from the Glibc module and its Swift overlay; Embedded Swift (the `make lib` build) imports
// the bare C headers (CStrataLibc), so the overlay's pieces it needs are written out below.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif hasFeature(Embedded)
import CStrataLibc

/// The calling thread's `errno` (a macro in C).
var errno: Int32 { cstrata_errno() }

/// `open(2)`; C's is variadic, which Swift cannot call.
func open(_ path: UnsafePointer<CChar>, _ flags: Int32, _ mode: mode_t = 0) -> Int32 {
    cstrata_open(path, flags, mode)
}

/// `mmap`'s failure value, `(void *)-1`.
var MAP_FAILED: UnsafeMutableRawPointer? { UnsafeMutableRawPointer(bitPattern: -1) }
#endif
import StrataCore

/// `write(2)`, for code inside types that have a `write` of their own.
func writeFile(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}


/// The bytes of a model file: a read-only `mmap` of a file, or an owned, 64-byte-aligned copy.
///
/// Owns the memory; every view into it keeps this object alive. `deinit` unmaps or frees.
package final class ModelBytes: @unchecked Sendable {
    /// Start of the bytes (64-byte aligned).
    package let base: UnsafeRawPointer
    /// Number of bytes.
    package let count: Int
    private let isMapped: Bool

    /// The whole buffer. Valid only while this object is alive: keep a reference to it (or use
    /// `withExtendedLifetime`) for as long as the buffer is used — `ModelBytes.mapping(…).buffer`
    /// in one expression may be unmapped before the buffer is read.
    package var buffer: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

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
    package static func copying(_ bytes: UnsafeRawBufferPointer) throws(StrataError) -> ModelBytes {
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
    package static func mapping(path: String) throws(StrataError) -> ModelBytes {
        // withCString rethrows untyped errors: carry the typed one out as a Result.
        try path.withCString { cPath in Result { () throws(StrataError) in try mapping(cPath: cPath) } }.get()
    }

    /// Maps the file at the NUL-terminated `cPath` read-only. The bytes are passed to `open`
    /// unchanged (Linux file names need not be UTF-8); they are decoded only for messages.
    package static func mapping(cPath: UnsafePointer<CChar>) throws(StrataError) -> ModelBytes {
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

extension ModelWriter {
    /// Writes `bytes` to `path` atomically: a temporary file beside it, then `rename`.
    package static func write(_ bytes: [UInt8], to path: String) throws(StrataError) {
        let tmp = path + ".tmp-\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StrataError(.ioError, "cannot create '\(tmp)': \(String(cString: strerror(errno)))") }
        var written = 0
        let ok = bytes.withUnsafeBytes { buf -> Bool in
            while written < buf.count {
                let n = writeFile(fd, buf.baseAddress! + written, buf.count - written)
                if n <= 0 { return false }
                written += n
            }
            return true
        }
        close(fd)
        guard ok, rename(tmp, path) == 0 else {
            unlink(tmp)
            throw StrataError(.ioError, "cannot write '\(path)': \(String(cString: strerror(errno)))")
        }
    }
}
