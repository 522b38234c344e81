#if arch(x86_64) && canImport(CStrataSIMD)
import CStrataSIMD
#endif

/// CRC-32 as computed by zlib's `crc32` (reflected polynomial 0xEDB88320).
///
/// Implemented here rather than linked from zlib so that libstrata needs nothing beyond libc.
/// Two variants compute the same bits: carry-less multiply folding (`pclmul`, x86-64 with
/// PCLMULQDQ, chosen at run time from CPUID) and slice-by-8 tables (`slice8`, everywhere; the
/// tested twin, and the tail of every `pclmul` run). `checksum` uses `best`.
/// `crc32("123456789") == 0xCBF43926`; tests pin it against Python's `zlib.crc32`.
package enum CRC32 {
    /// One way of computing the CRC.
    package enum Variant: Sendable, Equatable, CustomStringConvertible {
        /// `strataimpl_crc32_pclmul` (C intrinsics, Sources/CStrataSIMD): 64 bytes per folding
        /// step in four lanes, for runs of at least 64 bytes; the table does the rest.
        case pclmul
        /// Slice-by-8 tables, 8 bytes per step: the portable twin.
        case slice8

        /// The greppable name, e.g. "crc32_pclmul".
        package var description: String { self == .pclmul ? "crc32_pclmul" : "crc32_slice8" }
    }

    /// Every variant this build can run on this CPU (tests compare them).
    package static let available: [Variant] = {
        #if arch(x86_64) && canImport(CStrataSIMD)
        if strataimpl_crc32_pclmul_supported() != 0 { return [.pclmul, .slice8] }
        #endif
        return [.slice8]
    }()

    /// The variant `checksum` uses: `pclmul` when the CPU has it, else `slice8`.
    package static var best: Variant { available[0] }

    /// 8 × 256 lookup tables for slice-by-8.
    static let tables: [[UInt32]] = {
        var t = [[UInt32]](repeating: [UInt32](repeating: 0, count: 256), count: 8)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 { c = (c & 1) != 0 ? (0xEDB8_8320 ^ (c >> 1)) : (c >> 1) }
            t[0][i] = c
        }
        for i in 0..<256 {
            for k in 1..<8 { t[k][i] = (t[k - 1][i] >> 8) ^ t[0][Int(t[k - 1][i] & 0xFF)] }
        }
        return t
    }()

    /// The CRC-32 of `bytes`, continuing from `crc` (0 to start), computed by `best`.
    package static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        checksum(bytes, continuing: crc, using: best)
    }

    /// The CRC-32 of `bytes`, continuing from `crc` (0 to start), computed by `variant` (which
    /// must be one of `available`; `pclmul` elsewhere traps).
    package static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0,
                                using variant: Variant) -> UInt32 {
        guard bytes.count > 0, let base = bytes.baseAddress else { return crc }
        var state = ~crc
        var done = 0
        if variant == .pclmul {
            #if arch(x86_64) && canImport(CStrataSIMD)
            let bulk = bytes.count >= 64 ? bytes.count & ~15 : 0
            if bulk > 0 {
                state = strataimpl_crc32_pclmul(state, base.assumingMemoryBound(to: UInt8.self), bulk)
                done = bulk
            }
            #else
            preconditionFailure("crc32_pclmul exists only on x86-64")
            #endif
        }
        state = slice8(state, base + done, bytes.count - done)
        return ~state
    }

    /// Slice-by-8 over `n` bytes at `base`, from and to the running (inverted) state.
    static func slice8(_ state: UInt32, _ base: UnsafeRawPointer, _ n: Int) -> UInt32 {
        var c = state
        tables.withUnsafeBufferPointer { tt in
            let t0 = tt[0], t1 = tt[1], t2 = tt[2], t3 = tt[3], t4 = tt[4], t5 = tt[5], t6 = tt[6], t7 = tt[7]
            var i = 0
            while i + 8 <= n {
                let lo = base.loadUnaligned(fromByteOffset: i, as: UInt32.self).littleEndian ^ c
                let hi = base.loadUnaligned(fromByteOffset: i + 4, as: UInt32.self).littleEndian
                c = t7[Int(lo & 0xFF)] ^ t6[Int((lo >> 8) & 0xFF)] ^ t5[Int((lo >> 16) & 0xFF)] ^ t4[Int(lo >> 24)]
                  ^ t3[Int(hi & 0xFF)] ^ t2[Int((hi >> 8) & 0xFF)] ^ t1[Int((hi >> 16) & 0xFF)] ^ t0[Int(hi >> 24)]
                i += 8
            }
            while i < n {
                c = t0[Int((c ^ UInt32(base.load(fromByteOffset: i, as: UInt8.self))) & 0xFF)] ^ (c >> 8)
                i += 1
            }
        }
        return c
    }

    /// The CRC-32 of a byte array.
    package static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }
}
