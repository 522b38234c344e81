import StrataCore

/// A bounds-checked little-endian cursor over a section's bytes.
///
/// Every read checks the remaining length first and throws `malformed` naming `context`,
/// so no read can go past the section whatever the file says.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    var position = 0
    /// Section name for messages, e.g. "GRAPH".
    let context: String

    init(_ bytes: UnsafeRawBufferPointer, context: String) {
        self.bytes = bytes
        self.context = context
    }

    var remaining: Int { bytes.count - position }

    private mutating func take(_ n: Int, _ what: @autoclosure () -> String) throws(StrataError) -> Int {
        guard n >= 0, n <= remaining else {
            throw StrataError(.malformed, "section \(context) ends inside \(what()) (needs \(n) bytes at offset \(position), \(remaining) left)")
        }
        defer { position += n }
        return position
    }

    mutating func u8(_ what: @autoclosure () -> String) throws(StrataError) -> UInt8 {
        let at = try take(1, what())
        return bytes.load(fromByteOffset: at, as: UInt8.self)
    }

    mutating func u32(_ what: @autoclosure () -> String) throws(StrataError) -> UInt32 {
        let at = try take(4, what())
        return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self))
    }

    mutating func u64(_ what: @autoclosure () -> String) throws(StrataError) -> UInt64 {
        let at = try take(8, what())
        return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self))
    }

    mutating func i64(_ what: @autoclosure () -> String) throws(StrataError) -> Int64 {
        Int64(bitPattern: try u64(what()))
    }

    mutating func f32(_ what: @autoclosure () -> String) throws(StrataError) -> Float {
        Float(bitPattern: try u32(what()))
    }

    /// A count capped at `max`.
    mutating func count(_ what: @autoclosure () -> String, max: Int) throws(StrataError) -> Int {
        let n = try u32(what())
        guard n <= max else {
            throw StrataError(.malformed, "section \(context): \(what()) is \(n), more than the limit of \(max)")
        }
        return Int(n)
    }

    /// A length-prefixed UTF-8 string of at most `maxBytes` bytes.
    mutating func string(_ what: @autoclosure () -> String, maxBytes: Int = FormatLimits.maxNameBytes,
                         allowEmpty: Bool = false) throws(StrataError) -> String {
        let n = try count("length of \(what())", max: maxBytes)
        if n == 0 && !allowEmpty {
            throw StrataError(.malformed, "section \(context): \(what()) is empty")
        }
        let at = try take(n, what())
        let slice = UnsafeRawBufferPointer(rebasing: bytes[at..<(at + n)])
        guard let s = String(validating: slice, as: UTF8.self) else {
            throw StrataError(.malformed, "section \(context): \(what()) is not valid UTF-8")
        }
        return s
    }

    /// Throws unless every byte was consumed.
    func expectEnd() throws(StrataError) {
        guard remaining == 0 else {
            throw StrataError(.malformed, "section \(context) has \(remaining) unexpected bytes after its content")
        }
    }
}
