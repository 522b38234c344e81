/// NumPy's `.npy` format (versions 1.0, 2.0 and 3.0), as `strata run` reads and writes it: a magic
/// string, a version, a little-endian header length, a Python-literal header
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (N, 784), }` padded to 64 bytes, then the data.
/// Reads float32 and float64 arrays, little-endian, C order; writes float32.
enum Npy {
    /// The first six bytes of every .npy file.
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"

    /// An array read from a .npy file: its shape and its values widened or kept as f32.
    struct Array {
        var shape: [Int]
        var values: [Float]
    }

    /// Whether `bytes` starts like a .npy file.
    static func looksLikeNpy(_ bytes: [UInt8]) -> Bool {
        bytes.count >= magic.count && Swift.Array(bytes[0..<magic.count]) == magic
    }

    /// Parses a whole .npy file; a sentence naming the problem when it cannot.
    static func read(_ bytes: [UInt8]) -> Result<Array, NpyError> {
        guard looksLikeNpy(bytes), bytes.count >= 10 else { return .failure(NpyError("not a .npy file (no \\x93NUMPY magic)")) }
        let major = bytes[6]
        let headerLength: Int, headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { return .failure(NpyError("the .npy header is cut short")) }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            return .failure(NpyError(".npy version \(major).\(bytes[7]) is not supported (1.0, 2.0 and 3.0 are)"))
        }
        guard headerStart + headerLength <= bytes.count else { return .failure(NpyError("the .npy header is cut short")) }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        guard let descr = value(of: "descr", in: header), let order = value(of: "fortran_order", in: header),
              let shapeText = value(of: "shape", in: header) else {
            return .failure(NpyError("the .npy header lacks 'descr', 'fortran_order' or 'shape': \(header)"))
        }
        let dtype = descr.filter { $0 != "'" && $0 != "\"" }
        guard dtype == "<f4" || dtype == "<f8" else {
            return .failure(NpyError(".npy dtype '\(dtype)' is not supported; save float32 ('<f4') or float64 ('<f8'), e.g. x.astype(np.float32)"))
        }
        guard order.hasPrefix("False") else {
            return .failure(NpyError("a Fortran-ordered .npy array is not supported; save np.ascontiguousarray(x)"))
        }
        var shape: [Int] = []
        for part in shapeText.filter({ $0 != "(" && $0 != ")" && $0 != " " }).split(separator: ",") {
            guard let d = Int(part), d >= 0 else { return .failure(NpyError("the .npy shape '\(shapeText)' is not a tuple of sizes")) }
            shape.append(d)
        }
        let width = dtype == "<f4" ? 4 : 8
        var count = 1
        for d in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else { return .failure(NpyError("the .npy shape \(shape) is too large")) }
            count = product
        }
        let dataStart = headerStart + headerLength
        guard bytes.count - dataStart == count * width else {
            return .failure(NpyError("the .npy data has \(bytes.count - dataStart) bytes; its shape \(shape) and dtype '\(dtype)' need \(count * width)"))
        }
        var values = [Float](repeating: 0, count: count)
        for i in 0..<count {
            var bits: UInt64 = 0
            for b in 0..<width { bits |= UInt64(bytes[dataStart + i * width + b]) << (8 * UInt64(b)) }
            values[i] = width == 4 ? Float(bitPattern: UInt32(truncatingIfNeeded: bits)) : Float(Double(bitPattern: bits))
        }
        return .success(Array(shape: shape, values: values))
    }

    /// A .npy 1.0 file holding `values` as float32 with `shape`.
    static func write(shape: [Int], values: [Float]) -> [UInt8] {
        let dims = shape.count == 1 ? "\(shape[0])," : shape.map(String.init).joined(separator: ", ")
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(dims)), }"
        let unpadded = magic.count + 4 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        let length = header.utf8.count
        var out = magic + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)] + Swift.Array(header.utf8)
        out.reserveCapacity(out.count + 4 * values.count)
        for v in values {
            let bits = v.bitPattern
            out += [UInt8(bits & 0xFF), UInt8((bits >> 8) & 0xFF), UInt8((bits >> 16) & 0xFF), UInt8(bits >> 24)]
        }
        return out
    }

    /// The text after `'key':` in a header dictionary, up to the next top-level comma (a tuple
    /// keeps its commas).
    private static func value(of key: String, in header: String) -> String? {
        let chars = Swift.Array(header)
        let pattern = Swift.Array("'\(key)':")
        guard chars.count >= pattern.count else { return nil }
        for start in 0...(chars.count - pattern.count) where Swift.Array(chars[start..<(start + pattern.count)]) == pattern {
            var i = start + pattern.count, depth = 0, text = ""
            while i < chars.count {
                let c = chars[i]
                if c == "(" { depth += 1 } else if c == ")" { depth -= 1 }
                if (c == "," && depth == 0) || c == "}" { break }
                text.append(c)
                if c == ")" && depth == 0 { break }
                i += 1
            }
            return text.trimmingSpaces()
        }
        return nil
    }
}

/// A .npy file that cannot be read: the sentence says why.
struct NpyError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

extension String {
    /// The string without leading and trailing spaces (no Foundation).
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
