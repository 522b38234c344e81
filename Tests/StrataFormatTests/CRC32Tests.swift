import Testing
@testable import StrataFormat
#if canImport(Glibc)
import Glibc
#endif

// CRC-32: every variant against values from Python's zlib.crc32 (computed once, written here),
// and the carry-less multiply variant bitwise equal to the slice-by-8 table twin on every length
// 0…300 at every alignment 0…15, on large buffers, and when a checksum continues in pieces.

/// Deterministic bytes (a 64-bit LCG's top byte).
private func pseudoRandomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var s = seed
    return (0..<count).map { _ in s = s &* 6364136223846793005 &+ 1442695040888963407; return UInt8(truncatingIfNeeded: s >> 56) }
}

@Test(arguments: CRC32.available)
func crc32KnownVectors(_ variant: CRC32.Variant) {
    func crc(_ bytes: [UInt8], _ start: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { CRC32.checksum($0, continuing: start, using: variant) }
    }
    #expect(crc([]) == 0)
    #expect(crc([], 0x1234_5678) == 0x1234_5678)
    #expect(crc(Array("123456789".utf8)) == 0xCBF4_3926)
    #expect(crc(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
    #expect(crc([UInt8](repeating: 0, count: 64)) == 0x758D_6336)
    #expect(crc([UInt8](repeating: 0xFF, count: 4096)) == 0xF154_670A)
    #expect(crc([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)) == 0xDC25_BFBC)
    #expect(crc((0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }) == 0x4A24_D8FA)
    #expect(crc(Array(repeating: Array(0...255), count: 4).flatMap { $0 }, 0x1234_5678) == 0x3D41_F3DB)
}

@Test func crc32PclmulIsAvailableOnX86() {
    #if arch(x86_64)
    // Every CPU libstrata runs on (AVX2, the load gate) has PCLMULQDQ: the fast path must be on,
    // unless the environment asks for the table (STRATA_PRETEND_NO_PCLMUL=1).
    let pretend = getenv("STRATA_PRETEND_NO_PCLMUL").map { String(cString: $0) == "1" } ?? false
    #expect(CRC32.best == (pretend ? .slice8 : .pclmul))
    #else
    #expect(CRC32.best == .slice8)
    #endif
}

@Test func crc32VariantsAgreeOnEveryLengthAndAlignment() {
    let bytes = pseudoRandomBytes(300 + 16, seed: 17)
    bytes.withUnsafeBytes { all in
        for offset in 0..<16 {
            for length in 0...300 {
                let piece = UnsafeRawBufferPointer(rebasing: all[offset..<(offset + length)])
                let reference = CRC32.checksum(piece, using: .slice8)
                for variant in CRC32.available {
                    let got = CRC32.checksum(piece, using: variant)
                    if got != reference {
                        Issue.record("\(variant) at offset \(offset), length \(length): \(got) != \(reference)")
                        return
                    }
                }
                // and continuing from a non-zero CRC
                let seeded = CRC32.checksum(piece, continuing: 0xDEAD_BEEF, using: .slice8)
                for variant in CRC32.available where CRC32.checksum(piece, continuing: 0xDEAD_BEEF, using: variant) != seeded {
                    Issue.record("\(variant) continuing at offset \(offset), length \(length)")
                    return
                }
            }
        }
    }
}

@Test func crc32VariantsAgreeOnLargeBuffersAndInPieces() {
    let bytes = pseudoRandomBytes(8 << 20 | 13, seed: 99)
    bytes.withUnsafeBytes { all in
        let whole = CRC32.checksum(all, using: .slice8)
        for variant in CRC32.available {
            #expect(CRC32.checksum(all, using: variant) == whole, "\(variant)")
            // In uneven pieces (some below 64 bytes, some not multiples of 16), each continuing
            // the last: the same CRC as in one piece.
            var crc: UInt32 = 0, at = 0
            let sizes = [1, 63, 64, 65, 1000, 4097, 1 << 20, 15]
            var i = 0
            while at < all.count {
                let n = min(sizes[i % sizes.count], all.count - at)
                crc = CRC32.checksum(UnsafeRawBufferPointer(rebasing: all[at..<(at + n)]), continuing: crc, using: variant)
                at += n
                i += 1
            }
            #expect(crc == whole, "\(variant) in pieces")
        }
    }
}

@Test func crc32DetectsEverySingleBitFlip() {
    // A CRC-32 detects every single-bit error: flip each bit of a 200-byte buffer in turn.
    var bytes = pseudoRandomBytes(200, seed: 5)
    let original = CRC32.checksum(bytes)
    for i in 0..<(bytes.count * 8) {
        bytes[i / 8] ^= UInt8(1 << (i % 8))
        for variant in CRC32.available {
            let flipped = bytes.withUnsafeBytes { CRC32.checksum($0, using: variant) }
            if flipped == original { Issue.record("\(variant): bit \(i) flip not detected"); return }
        }
        bytes[i / 8] ^= UInt8(1 << (i % 8))
    }
}
