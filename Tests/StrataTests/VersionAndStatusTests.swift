import CStrataABI
import StrataCore
import Testing

@Suite("Versions and status codes")
struct VersionAndStatusTests {
    @Test("strata_version is the header's MAJOR.MINOR.PATCH; strata_abi_version is STRATA_ABI_VERSION")
    func versions() {
        #expect(String(cString: strata_version()) == "\(STRATA_VERSION_MAJOR).\(STRATA_VERSION_MINOR).\(STRATA_VERSION_PATCH)")
        #expect(strata_abi_version() == STRATA_ABI_VERSION)
        #expect(STRATA_FORMAT_VERSION_MAJOR == 1)
    }

    /// Every header constant next to the StrataCore status it must equal.
    static let constants: [(name: String, header: Int32, status: Status)] = [
        ("OK", STRATA_STATUS_OK, .ok),
        ("INVALID_ARGUMENT", STRATA_STATUS_INVALID_ARGUMENT, .invalidArgument),
        ("NULL_POINTER", STRATA_STATUS_NULL_POINTER, .nullPointer),
        ("IO_ERROR", STRATA_STATUS_IO_ERROR, .ioError),
        ("TRUNCATED", STRATA_STATUS_TRUNCATED, .truncated),
        ("BAD_MAGIC", STRATA_STATUS_BAD_MAGIC, .badMagic),
        ("UNSUPPORTED_VERSION", STRATA_STATUS_UNSUPPORTED_VERSION, .unsupportedVersion),
        ("CHECKSUM_MISMATCH", STRATA_STATUS_CHECKSUM_MISMATCH, .checksumMismatch),
        ("MALFORMED", STRATA_STATUS_MALFORMED, .malformed),
        ("UNSUPPORTED", STRATA_STATUS_UNSUPPORTED, .unsupported),
        ("SHAPE_MISMATCH", STRATA_STATUS_SHAPE_MISMATCH, .shapeMismatch),
        ("BUFFER_TOO_SMALL", STRATA_STATUS_BUFFER_TOO_SMALL, .bufferTooSmall),
        ("OUT_OF_MEMORY", STRATA_STATUS_OUT_OF_MEMORY, .outOfMemory),
        ("INTERNAL", STRATA_STATUS_INTERNAL, .internalError),
        ("CANCELLED", STRATA_STATUS_CANCELLED, .cancelled),
        ("SESSION_BUSY", STRATA_STATUS_SESSION_BUSY, .sessionBusy),
    ]

    @Test("each STRATA_STATUS_* constant equals its Status rawValue and name; codes are 0, -1, -2, …")
    func constantsMatchStatus() {
        for (i, c) in Self.constants.enumerated() {
            #expect(c.header == c.status.rawValue, "STRATA_STATUS_\(c.name)")
            #expect(c.status.name == c.name)
            #expect(c.header == -Int32(i), "append-only list without gaps")
        }
    }

    @Test("strata_status_string gives each code's static description")
    func statusStrings() {
        for c in Self.constants {
            #expect(String(cString: strata_status_string(c.header)) == "\(c.status.summary)", "\(c.name)")
            #expect(String(cString: strata_status_string(c.header)) != "unknown status", "\(c.name)")
        }
        #expect(String(cString: strata_status_string(STRATA_STATUS_CHECKSUM_MISMATCH)) == "checksum mismatch")
        #expect(String(cString: strata_status_string(STRATA_STATUS_OK)) == "ok")
        #expect(Set(Self.constants.map { String(cString: strata_status_string($0.header)) }).count == Self.constants.count)
    }

    @Test("unknown codes give \"unknown status\"", arguments: [1, -16, 42, Int32.min, Int32.max])
    func unknownStatus(code: Int32) {
        #expect(String(cString: strata_status_string(code)) == "unknown status")
    }
}
