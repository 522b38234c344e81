import StrataCore

/// Whole-file integrity checks (docs/FORMAT.md, "Integrity"): every CRC again, and the optional
/// SHA-256 of the payload recorded under the `payload_sha256` metadata key.
///
/// The payload is the concatenation, in section-table order, of the bodies of every section
/// except METADATA (which holds the digest); the header, the section table and padding are not
/// part of it (they are covered by the CRCs).
package enum Integrity {
    /// The metadata key holding the payload digest: 64 lower-case hex digits.
    package static let sha256Key = "payload_sha256"

    /// One entry of a file's section table.
    package struct Section: Sendable, Equatable {
        /// Section kind id (see `SectionKind`; unknown optional kinds keep their id).
        package var kind: UInt32
        /// Section flags.
        package var flags: UInt32
        /// Offset of the body from the start of the file.
        package var offset: Int
        /// Size of the body in bytes.
        package var size: Int
        /// Stored CRC-32 of the body.
        package var crc32: UInt32

        /// "GRAPH", or "kind N" for a kind this library does not know.
        package var name: String { SectionKind(rawValue: kind)?.name ?? "kind \(kind)" }
    }

    /// What `verify` checked.
    package struct Report: Sendable, Equatable {
        /// The sections whose CRC-32 was recomputed, in table order.
        package var sections: [Section]
        /// The payload digest computed (lower-case hex), or nil when the file records none.
        package var sha256: String?
    }

    /// Throws `malformed` when the `payload_sha256` value is not 64 lower-case hex digits.
    static func checkMetadata(_ metadata: [(key: String, value: String)]) throws(StrataError) {
        guard let value = metadata.first(where: { $0.key == sha256Key })?.value else { return }
        let ok = value.utf8.count == 64 && value.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
        guard ok else {
            throw StrataError(.malformed, "metadata '\(sha256Key)' must be 64 lower-case hex digits (a SHA-256), got \(value.utf8.count) bytes")
        }
    }

    /// The section table of a validated file.
    package static func sections(of file: ModelFile) -> [Section] {
        let buf = file.bytes.buffer
        let count = Int(UInt32(littleEndian: buf.loadUnaligned(fromByteOffset: 24, as: UInt32.self)))
        return (0..<count).map { i in
            let e = 64 + 32 * i
            func u32(_ at: Int) -> UInt32 { UInt32(littleEndian: buf.loadUnaligned(fromByteOffset: e + at, as: UInt32.self)) }
            func u64(_ at: Int) -> Int { Int(UInt64(littleEndian: buf.loadUnaligned(fromByteOffset: e + at, as: UInt64.self))) }
            return Section(kind: u32(0), flags: u32(4), offset: u64(8), size: u64(16), crc32: u32(24))
        }
    }

    /// SHA-256 of the payload of `bodies` (kind, body) given in table order.
    package static func payloadSHA256(_ bodies: [(kind: UInt32, body: UnsafeRawBufferPointer)]) -> [UInt8] {
        var h = SHA256()
        for (kind, body) in bodies where kind != SectionKind.metadata.rawValue { h.update(body) }
        return h.finalize()
    }

    /// SHA-256 of a validated file's payload.
    package static func payloadSHA256(of file: ModelFile) -> [UInt8] {
        let buf = file.bytes.buffer
        return payloadSHA256(sections(of: file).map { ($0.kind, UnsafeRawBufferPointer(rebasing: buf[$0.offset..<($0.offset + $0.size)])) })
    }

    /// Recomputes the header CRC and every section CRC (even when the file was loaded without
    /// checksum verification) and, when the metadata records one, the payload SHA-256.
    /// - Parameter checkingCRCs: false skips the CRCs (the report then lists no sections).
    /// - Returns: what was checked.
    /// - Throws: `checksumMismatch` naming the header, the section or the digest that differs.
    package static func verify(_ file: ModelFile, checkingCRCs: Bool = true) throws(StrataError) -> Report {
        let sections = checkingCRCs ? try verifyCRCs(file) : []
        return Report(sections: sections, sha256: try verifyPayloadDigest(file))
    }

    /// Recomputes the payload SHA-256 when the metadata records one.
    /// - Returns: the digest (lower-case hex), or nil when none is recorded.
    /// - Throws: `checksumMismatch` when it differs from the recorded one.
    package static func verifyPayloadDigest(_ file: ModelFile) throws(StrataError) -> String? {
        guard let recorded = file.metadataValue(sha256Key) else { return nil }
        let actual = SHA256.hex(payloadSHA256(of: file))
        guard actual == recorded else {
            throw StrataError(.checksumMismatch, "payload SHA-256 mismatch (recorded \(recorded), computed \(actual)): the file is corrupted or was edited")
        }
        return actual
    }

    /// Recomputes the header CRC and every section CRC.
    /// - Returns: the section table.
    /// - Throws: `checksumMismatch` naming the header or the section that differs.
    package static func verifyCRCs(_ file: ModelFile) throws(StrataError) -> [Section] {
        let buf = file.bytes.buffer
        let storedHeader = UInt32(littleEndian: buf.loadUnaligned(fromByteOffset: 60, as: UInt32.self))
        let header = CRC32.checksum(UnsafeRawBufferPointer(rebasing: buf[0..<60]))
        guard storedHeader == header else {
            throw StrataError(.checksumMismatch, "header checksum mismatch (stored 0x\(hex(storedHeader)), computed 0x\(hex(header))): the file is corrupted")
        }
        let table = sections(of: file)
        for (i, s) in table.enumerated() {
            let actual = CRC32.checksum(UnsafeRawBufferPointer(rebasing: buf[s.offset..<(s.offset + s.size)]))
            guard actual == s.crc32 else {
                throw StrataError(.checksumMismatch, "section \(i) (\(s.name)) checksum mismatch (stored 0x\(hex(s.crc32)), computed 0x\(hex(actual))): the file is corrupted")
            }
        }
        return table
    }
}
