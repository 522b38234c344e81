import StrataCore

/// `strata ops` and `strata encodings`: the op table and the weight-encoding table this build
/// reads and runs (StrataCore `OpSchema.all`, `WeightEncoding.all`), as text or, with `--json`,
/// as the JSON the converter's tests compare with its own tables and with docs/FORMAT.md.

/// A JSON string literal (the names are ASCII; quotes and backslashes escaped all the same).
func jsonString(_ s: String) -> String {
    var out = "\""
    for c in s.unicodeScalars {
        switch c {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        default: out.unicodeScalars.append(c)
        }
    }
    return out + "\""
}

/// The attribute type names of docs/FORMAT.md (ids 1…4).
let attributeTypeNames: [UInt32: String] = [1: "int", 2: "float", 3: "ints", 4: "string"]

func printOps(json: Bool) {
    let ops = OpSchema.all.values.sorted { $0.name < $1.name }
    if !json {
        for op in ops {
            let attrs = op.attributes.keys.sorted().map { "\($0):\(attributeTypeNames[op.attributes[$0]!] ?? "?")" }
            print("\(op.name)  inputs \(op.inputCount.lowerBound)…\(op.inputCount.upperBound)"
                  + (op.optionalInputs.isEmpty ? "" : " (optional \(op.optionalInputs.sorted().map(String.init).joined(separator: ",")))")
                  + "  outputs \(op.outputCount)  since 1.\(op.since)"
                  + (attrs.isEmpty ? "" : "  attributes \(attrs.joined(separator: " "))"))
        }
        return
    }
    let entries = ops.map { op -> String in
        let attrs = op.attributes.keys.sorted().map { "\(jsonString($0)): \(jsonString(attributeTypeNames[op.attributes[$0]!] ?? "?"))" }
        return "  \(jsonString(op.name)): {\"min_inputs\": \(op.inputCount.lowerBound), \"max_inputs\": \(op.inputCount.upperBound), "
            + "\"optional_inputs\": [\(op.optionalInputs.sorted().map(String.init).joined(separator: ", "))], "
            + "\"attributes\": {\(attrs.joined(separator: ", "))}, \"outputs\": \(op.outputCount), \"since\": \(op.since)}"
    }
    print("{\n\(entries.joined(separator: ",\n"))\n}")
}

func printEncodings(json: Bool) {
    func scales(_ s: WeightEncoding.Scales) -> (String, Int) {
        switch s {
        case .none: return ("none", 0)
        case .f32PerRow: return ("f32-per-row", 0)
        case .f16PerRowBlock(let block): return ("f16-per-row-block", block)
        }
    }
    let rows = WeightEncoding.all.map { e -> String in
        let (kind, block) = scales(e.scales)
        if !json {
            return "\(e.name)  dtype \(e.dtype) layout \(e.layout)  k multiple of \(e.kAlignment)  \(e.panelBytesPerK) bytes per panel and k"
                + "  scales \(kind)\(block > 0 ? " (block \(block))" : "")\(e.weightOnly ? "  weight-only" : "")  since 1.\(e.since)"
        }
        return "  {\"name\": \(jsonString(e.name)), \"dtype\": \(jsonString(e.dtype.description)), "
            + "\"layout\": \(jsonString(e.layout.description)), \"k_alignment\": \(e.kAlignment), "
            + "\"panel_bytes_per_k\": \(e.panelBytesPerK), \"scales\": \(jsonString(kind)), \"scale_block\": \(block), "
            + "\"weight_only\": \(e.weightOnly), \"since\": \(e.since)}"
    }
    print(json ? "[\n\(rows.joined(separator: ",\n"))\n]" : rows.joined(separator: "\n"))
}
