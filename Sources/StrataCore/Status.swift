/// A Strata status code, as returned across the C ABI (`STRATA_STATUS_*` in `include/strata.h`).
///
/// An open set read from the outside world: unknown values are representable, never a crash.
/// Codes are append-only; a retired code stays reserved.
public struct Status: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The C value: 0 for success, negative for errors.
    public var rawValue: Int32
    /// Wraps a raw status code.
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// Success.
    public static let ok = Status(rawValue: 0)
    /// An argument is out of range.
    public static let invalidArgument = Status(rawValue: -1)
    /// A required pointer argument is NULL.
    public static let nullPointer = Status(rawValue: -2)
    /// A file could not be opened, read or mapped.
    public static let ioError = Status(rawValue: -3)
    /// The file ends before its declared size.
    public static let truncated = Status(rawValue: -4)
    /// Not a .strata file.
    public static let badMagic = Status(rawValue: -5)
    /// The file's major version is not one this library reads.
    public static let unsupportedVersion = Status(rawValue: -6)
    /// A CRC32 does not match.
    public static let checksumMismatch = Status(rawValue: -7)
    /// The file breaks a rule of docs/FORMAT.md.
    public static let malformed = Status(rawValue: -8)
    /// A valid file needing an op, dtype or feature this library lacks.
    public static let unsupported = Status(rawValue: -9)
    /// Shapes disagree.
    public static let shapeMismatch = Status(rawValue: -10)
    /// A caller-provided buffer is too small.
    public static let bufferTooSmall = Status(rawValue: -11)
    /// Memory could not be allocated.
    public static let outOfMemory = Status(rawValue: -12)
    /// A bug in Strata.
    public static let internalError = Status(rawValue: -13)
    /// The caller's abort callback asked a run to stop.
    public static let cancelled = Status(rawValue: -14)
    /// Another call was using the session (one call at a time per session), or it is being freed.
    public static let sessionBusy = Status(rawValue: -15)

    /// A short static description, as `strata_status_string` returns it.
    public var summary: StaticString {
        switch self {
        case .ok: return "ok"
        case .invalidArgument: return "invalid argument"
        case .nullPointer: return "null pointer"
        case .ioError: return "I/O error"
        case .truncated: return "truncated file"
        case .badMagic: return "bad magic (not a .strata file)"
        case .unsupportedVersion: return "unsupported format version"
        case .checksumMismatch: return "checksum mismatch"
        case .malformed: return "malformed file"
        case .unsupported: return "unsupported feature"
        case .shapeMismatch: return "shape mismatch"
        case .bufferTooSmall: return "buffer too small"
        case .outOfMemory: return "out of memory"
        case .internalError: return "internal error"
        case .cancelled: return "cancelled"
        case .sessionBusy: return "session busy (used by another call at the same time)"
        default: return "unknown status"
        }
    }

    /// The constant's name without prefix, e.g. `CHECKSUM_MISMATCH`.
    public var name: String {
        switch self {
        case .ok: return "OK"
        case .invalidArgument: return "INVALID_ARGUMENT"
        case .nullPointer: return "NULL_POINTER"
        case .ioError: return "IO_ERROR"
        case .truncated: return "TRUNCATED"
        case .badMagic: return "BAD_MAGIC"
        case .unsupportedVersion: return "UNSUPPORTED_VERSION"
        case .checksumMismatch: return "CHECKSUM_MISMATCH"
        case .malformed: return "MALFORMED"
        case .unsupported: return "UNSUPPORTED"
        case .shapeMismatch: return "SHAPE_MISMATCH"
        case .bufferTooSmall: return "BUFFER_TOO_SMALL"
        case .outOfMemory: return "OUT_OF_MEMORY"
        case .internalError: return "INTERNAL"
        case .cancelled: return "CANCELLED"
        case .sessionBusy: return "SESSION_BUSY"
        default: return "UNKNOWN(\(rawValue))"
        }
    }

    /// `name`, for printing.
    public var description: String { name }
}

/// The one error type of Strata: a status plus a sentence naming the offending thing.
public struct StrataError: Error, Sendable, CustomStringConvertible {
    /// The status reported across the C ABI.
    public var status: Status
    /// A sentence for `strata_last_error()`, e.g. "tensor 'fc1.weight' ends past the DATA section".
    public var message: String

    /// Creates an error with a status and a message.
    public init(_ status: Status, _ message: String) {
        self.status = status
        self.message = message
    }

    /// "NAME: message".
    public var description: String { "\(status.name): \(message)" }
}
