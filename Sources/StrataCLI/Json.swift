/// A JSON value for the CLI's `--json` output (no Foundation): objects keep their keys' order.
/// Non-finite numbers become `null`, as JSON has no NaN or infinity.
enum JSON {
    case null
    case bool(Bool)
    case int(Int)
    case number(Double)
    /// A float written in its shortest form that reads back as the same Float.
    case float(Float)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    /// A float array as a JSON array of numbers.
    static func floats<C: Collection>(_ values: C) -> JSON where C.Element == Float {
        .array(values.map { .float($0) })
    }

    /// Compact JSON text.
    var text: String {
        var out = ""
        write(to: &out)
        return out
    }

    private func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .number(let d): out += d.isFinite ? (d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : "\(d)") : "null"
        case .float(let f): out += f.isFinite ? "\(f)" : "null"
        case .string(let s): JSON.quote(s, into: &out)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += ", " }
                item.write(to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (i, (key, value)) in members.enumerated() {
                if i > 0 { out += ", " }
                JSON.quote(key, into: &out)
                out += ": "
                value.write(to: &out)
            }
            out += "}"
        }
    }

    private static func quote(_ s: String, into out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}

/// A shape as JSON: the batch dimension (-1 in the file) is `null`.
func jsonShape(_ dims: [Int]) -> JSON {
    .array(dims.map { $0 < 0 ? .null : .int($0) })
}
