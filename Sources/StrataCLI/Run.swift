#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import StrataCore
import StrataEngine

/// `strata run FILE`: reads samples (a .npy array, or raw little-endian f32 with `--raw`) from
/// standard input or `--input PATH`, runs them, and prints one line of outputs per sample, the
/// predicted class with `--top1`, a JSON document with `--json`, or writes a .npy with `--output`.
func run(_ path: String, _ args: [String]) {
    var inputPath: String? = nil, outputPath: String? = nil
    var top1 = false, profile = false, raw = false, json = false
    var threads = 1
    var i = 0
    while i < args.count {
        switch args[i] {
        case "--input":
            guard i + 1 < args.count else { fail("--input needs a path") }
            inputPath = args[i + 1]; i += 1
        case "--output":
            guard i + 1 < args.count else { fail("--output needs a path") }
            outputPath = args[i + 1]; i += 1
        case "--raw": raw = true
        case "--top1": top1 = true
        case "--json": json = true
        case "--profile": profile = true
        case "--threads":
            guard i + 1 < args.count, let n = Int(args[i + 1]), n >= 1 else { fail("--threads needs a positive integer") }
            threads = n; i += 1
        default: fail("unknown option '\(args[i])'\n\(helpText("run"))")
        }
        i += 1
    }
    let model = load(path)
    guard model.inputs.count == 1, model.outputs.count == 1 else {
        fail("'run' handles models with one input and one output; this one has \(model.inputs.count) and \(model.outputs.count)")
    }
    let fd: Int32 = inputPath.map { open($0, O_RDONLY) } ?? 0
    if fd < 0 { fail("cannot open '\(inputPath!)': \(String(cString: strerror(errno)))") }
    let bytes = readAll(fd)
    let (input, batch) = samples(bytes, raw: raw, source: inputPath ?? "standard input", model: model)
    let outInfo = model.outputs[0], outPerSample = outInfo.sampleCount
    var output = [Float](repeating: 0, count: batch * outPerSample)
    do {
        let session = try Session(model: model, initialBatch: batch, threads: threads)
        session.setProfiling(profile)
        try input.withUnsafeBufferPointer { ip in
            try output.withUnsafeMutableBufferPointer { op in
                try session.run(batch: batch, input: ip.baseAddress!, output: op.baseAddress!)
            }
        }
        if let p = session.profile { printError(profileTable(p, batch: batch)) }
    } catch let e as StrataError { fail("\(e.message) [\(e.status.name)]") } catch { fail("\(error)") }
    if let outputPath {
        writeFile(outputPath, Npy.write(shape: [batch] + Array(outInfo.dims.dropFirst()), values: output))
    }
    let labels = model.metadataValue("class_labels")?.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    func best(_ s: Int) -> Int {
        let row = output[(s * outPerSample)..<((s + 1) * outPerSample)]
        return row.indices.max { row[$0] < row[$1] }! - s * outPerSample
    }
    if json {
        var members: [(String, JSON)] = [("model", .string(path)), ("batch", .int(batch)),
                                         ("output", .object([("name", .string(outInfo.name)), ("shape", .array(([batch] + outInfo.dims.dropFirst()).map { .int($0) }))]))]
        if !top1 && outputPath == nil {
            members.append(("outputs", .array((0..<batch).map { .floats(output[($0 * outPerSample)..<(($0 + 1) * outPerSample)]) })))
        }
        members.append(("top1", .array((0..<batch).map { s -> JSON in
            let k = best(s)
            return .object([("class", .int(k)), ("label", labels.flatMap { k < $0.count ? .string($0[k]) : nil } ?? .null)])
        })))
        print(JSON.object(members).text)
        return
    }
    if outputPath != nil && !top1 { return }
    for s in 0..<batch {
        if top1 {
            let k = best(s)
            let label = labels.flatMap { k < $0.count ? " \($0[k])" : nil } ?? ""
            print("\(s): \(k)\(label)")
        } else {
            print(output[(s * outPerSample)..<((s + 1) * outPerSample)].map { "\($0)" }.joined(separator: " "))
        }
    }
}

/// The samples in `bytes` and their count: a .npy array of shape (N, *sample) or one sample's
/// shape, or with `raw` a whole number of samples of little-endian f32. Anything else fails with
/// a sentence naming what was expected.
func samples(_ bytes: [UInt8], raw: Bool, source: String, model: Model) -> ([Float], Int) {
    let info = model.inputs[0], perSample = info.sampleCount
    let expected = "'\(info.name)' \(describeShape(info.dims))"
    if raw {
        if Npy.looksLikeNpy(bytes) { fail("\(source) is a .npy file, not raw f32; drop --raw to read it as .npy") }
        guard !bytes.isEmpty, bytes.count % (4 * perSample) == 0 else {
            fail("input has \(bytes.count) bytes; expected a positive multiple of \(4 * perSample) (\(perSample) little-endian f32 per sample of \(expected))")
        }
        var input = [Float](repeating: 0, count: bytes.count / 4)
        for j in 0..<input.count {
            input[j] = Float(bitPattern: UInt32(bytes[4 * j]) | UInt32(bytes[4 * j + 1]) << 8 | UInt32(bytes[4 * j + 2]) << 16 | UInt32(bytes[4 * j + 3]) << 24)
        }
        return (input, input.count / perSample)
    }
    guard Npy.looksLikeNpy(bytes) else {
        fail("\(source) is not a .npy file (\(bytes.count) bytes without the \\x93NUMPY magic); save the samples with numpy.save, or pass --raw for raw little-endian f32")
    }
    let array: Npy.Array
    switch Npy.read(bytes) {
    case .success(let a): array = a
    case .failure(let e): fail("\(source): \(e.message)")
    }
    let sample = Array(info.dims.dropFirst())
    if array.shape == sample { return (array.values, 1) }
    guard array.shape.count == info.dims.count, Array(array.shape.dropFirst()) == sample, array.shape[0] >= 1 else {
        fail("\(source) holds an array of shape \(describeShape(array.shape)); the model expects \(expected) (N samples) or one sample \(describeShape(sample))")
    }
    return (array.values, array.shape[0])
}

/// Writes `bytes` to `path` (created or truncated), or fails with the reason.
func writeFile(_ path: String, _ bytes: [UInt8]) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    if fd < 0 { fail("cannot write '\(path)': \(String(cString: strerror(errno)))") }
    bytes.withUnsafeBytes { b in
        var done = 0
        while done < b.count {
            let w = write(fd, b.baseAddress! + done, b.count - done)
            if w <= 0 { fail("cannot write '\(path)': \(String(cString: strerror(errno)))") }
            done += w
        }
    }
    close(fd)
}
