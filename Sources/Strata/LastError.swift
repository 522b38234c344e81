#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif hasFeature(Embedded)
import CStrataLibc  // Embedded Swift (the `make lib` build) has no Glibc module
#endif
import StrataCore

/// The thread-local message behind `strata_last_error()`: one heap buffer per thread, made on
/// first failure and freed by the pthread key destructor when the thread exits.
enum LastError {
    static let capacity = 1024
    static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k) { free($0) }
        return k
    }()
    static let empty: StaticString = ""

    /// Stores `message` (truncated to fit, at a UTF-8 boundary) for the calling thread.
    static func set(_ message: String) {
        var buf = pthread_getspecific(key)?.assumingMemoryBound(to: CChar.self)
        if buf == nil {
            guard let p = malloc(capacity) else { return }
            pthread_setspecific(key, p)
            buf = p.assumingMemoryBound(to: CChar.self)
        }
        var utf8: [UInt8] = []
        for scalar in message.unicodeScalars {  // truncate at a scalar boundary
            let bytes = Array(String(scalar).utf8)
            if utf8.count + bytes.count > capacity - 1 { break }
            utf8 += bytes
        }
        for (i, b) in utf8.enumerated() { buf![i] = CChar(bitPattern: b) }
        buf![utf8.count] = 0
    }

    /// The calling thread's message, or "".
    static func get() -> UnsafePointer<CChar> {
        if let p = pthread_getspecific(key) { return UnsafePointer(p.assumingMemoryBound(to: CChar.self)) }
        return UnsafeRawPointer(empty.utf8Start).assumingMemoryBound(to: CChar.self)
    }
}

/// Runs `body`, mapping a thrown error to its status and recording its message.
///
/// Closures passed here are written `{ () throws(StrataError) in ... }`: Embedded Swift (the
/// `make lib` build) does not infer a closure's typed throws from its context.
@inline(__always)
func guarded(_ body: () throws(StrataError) -> Void) -> Int32 {
    do {
        try body()
        return Status.ok.rawValue
    } catch {
        LastError.set(error.message)
        return error.status.rawValue
    }
}

/// Throws `nullPointer` naming `argument` when `p` is nil.
@inline(__always)
func require<T>(_ p: T?, _ argument: String, in function: String) throws(StrataError) -> T {
    guard let p else { throw StrataError(.nullPointer, "\(function): argument '\(argument)' is NULL") }
    return p
}

/// True when `text` contains `fragment` as a run of UTF-8 bytes. (Foundation-free, and unlike
/// `String.contains(_: String)` it does not link Swift's regex engine, 1.4 MB of library.)
func mentions(_ text: String, _ fragment: String) -> Bool {
    let t = Array(text.utf8), f = Array(fragment.utf8)
    guard !f.isEmpty else { return true }
    guard t.count >= f.count else { return false }
    for start in 0...(t.count - f.count) where t[start] == f[0] {
        if t[start..<(start + f.count)].elementsEqual(f) { return true }
    }
    return false
}
