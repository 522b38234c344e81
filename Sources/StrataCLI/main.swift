#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import StrataCore
import StrataEngine

/// `strata`: inspect and run .strata models from the command line.
let usage = """
usage: strata info FILE [--json]     inputs, outputs, layers, parameters, dtypes, file size
       strata info FILE --dot       the graph and its plan (fused steps) as Graphviz DOT
       strata run FILE [options]     read samples (.npy), print outputs
         --input PATH                read samples from PATH instead of standard input
         --raw                       the input is raw little-endian f32, not .npy
         --output PATH.npy           write the outputs as .npy instead of printing them
         --top1                      print the predicted class (and label) per sample only
         --json                      print one JSON object
         --threads N                 run on N threads (default 1)
         --profile                   also print the time of each step (to standard error)
       strata bench FILE [options]   Strata's own latency and throughput on random inputs
         --batch B[,B...]            batch sizes (default 1,16,256)
         --threads N                 threads (default 1)
         --seconds S                 measuring time per batch size (default 1)
         --json                      print one JSON object
       strata verify FILE [options]  check CRCs and the payload SHA-256
         --json                      print one JSON object
         --self-test                 also run the embedded reference inputs against their outputs
         --no-crc                    skip the CRC checks (trusted, very large files)
       strata tensor FILE NAME       write a stored tensor as raw little-endian f32 to standard output
                                     (quantized weights dequantized, row-major [out, in])
       strata ops [--json]           the op table this build reads and runs
       strata encodings [--json]     the weight encodings (dtype × layout) this build reads and runs
       strata COMMAND --help         the options of one command
       strata --version

"""

/// Writes to standard error without touching the C `stderr` global.
func printError(_ s: String) {
    var bytes = Array(s.utf8)
    _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
}

func fail(_ message: String, code: Int32 = 2) -> Never {
    printError("strata: \(message)\n")
    exit(code)
}

func load(_ path: String) -> Model {
    do throws(StrataError) { return try Model(path: path) } catch {
        fail("\(path): \(error.message) [\(error.status.name)]")
    }
}

func dumpTensor(_ path: String, _ name: String) {
    let model = load(path)
    do throws(StrataError) {
        let values = try model.dequantizedTensor(named: name)
        values.withUnsafeBytes { b in
            var done = 0
            while done < b.count {
                let w = write(1, b.baseAddress! + done, b.count - done)
                if w <= 0 { fail("cannot write to standard output") }
                done += w
            }
        }
    } catch { fail("\(path): \(error.message) [\(error.status.name)]") }
}

func info(_ path: String) {
    let model = load(path)
    print("file:        \(path) (\(model.fileSize) bytes, format \(model.formatVersion.major).\(model.formatVersion.minor))")
    for (k, v) in model.metadata where k != "class_labels" { print("\(k + ":")\(String(repeating: " ", count: max(1, 13 - k.count - 1)))\(v)") }
    if let labels = model.metadataValue("class_labels") {
        print("labels:      \(labels.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: ", "))")
    }
    for i in model.inputs { print("input:       \(i.name) \(describeShape(i.dims)) \(i.dtype)") }
    for o in model.outputs { print("output:      \(o.name) \(describeShape(o.dims)) \(o.dtype)") }
    var dtypeCounts: [String: Int] = [:]
    for t in model.tensors { dtypeCounts[t.encoding, default: 0] += t.elementCount }
    print("parameters:  \(model.parameterCount) (\(dtypeCounts.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")))")
    let nodes = model.nodes
    print("layers:      \(nodes.count) nodes, \(model.steps.count) steps after fusion")
    for (i, n) in nodes.enumerated() {
        let ins = n.inputs.map { name -> String in
            if let t = model.tensor(named: name) { return "\(name)\(describeShape(t.dims))" }
            return name.isEmpty ? "-" : name
        }
        print("  \(i): \(n.op) \(n.name.isEmpty ? "" : "'\(n.name)' ")(\(ins.joined(separator: ", "))) -> \(n.outputs.joined(separator: ", "))")
    }
    print("plan:")
    for s in model.steps { print("  \(s.kind) [\(s.nodes.joined(separator: ", "))] \(s.shapes)") }
    print("scratch:     \(model.arenaFloatsPerSample * 4) bytes per sample")
}

func readAll(_ fd: Int32) -> [UInt8] {
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 { fail("cannot read input: \(String(cString: strerror(errno)))") }
        if n == 0 { break }
        bytes += chunk[0..<n]
    }
    return bytes
}

let args = Array(CommandLine.arguments.dropFirst())
answerHelp(args)
switch args.first {
case "info" where args.count == 2: info(args[1])
case "info" where args.count == 3 && args[2] == "--json": infoJSON(args[1])
case "info" where args.count == 3 && args[2] == "--dot": infoDot(args[1])
case "run" where args.count >= 2: run(args[1], Array(args.dropFirst(2)))
case "bench" where args.count >= 2: bench(args[1], Array(args.dropFirst(2)))
case "verify" where args.count >= 2: verify(args[1], Array(args.dropFirst(2)))
case "tensor" where args.count == 3: dumpTensor(args[1], args[2])
case "ops" where args.count <= 2 && args.dropFirst().allSatisfy({ $0 == "--json" }): printOps(json: args.count == 2)
case "encodings" where args.count <= 2 && args.dropFirst().allSatisfy({ $0 == "--json" }): printEncodings(json: args.count == 2)
case "--version": print("strata \(StrataVersion.string) (format \(Model.formatVersion.major).\(Model.formatVersion.minor))")
case "-h", "--help", "help": print(usage, terminator: "")
default: printError(usage); exit(2)
}
