#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `strata COMMAND --help` (or `-h`, or `strata help COMMAND`): each subcommand's own usage.
let commandHelp: [(name: String, text: String)] = [
    ("info", """
    usage: strata info FILE [--json | --dot]
      Inputs, outputs, metadata, class labels, parameters by dtype, the nodes and the execution
      plan after fusion of a .strata file.
      --json                      one JSON object instead of the text
      --dot                       the graph as Graphviz DOT: nodes with their weights, edges named
                                  by value, fused plan steps as clusters (render: dot -Tsvg)
    """),
    ("run", """
    usage: strata run FILE [--input PATH] [--raw] [--output PATH.npy] [--top1] [--json]
                           [--threads N] [--profile]
      Runs samples through the model and prints one line of outputs per sample.
      --input PATH                read the samples from PATH instead of standard input
                                  (a .npy array of shape (N, *sample) or one sample's shape,
                                  float32 or float64, as numpy.save writes it)
      --raw                       the input is raw little-endian f32 instead, a whole number of samples
      --output PATH.npy           write the outputs as a float32 .npy of shape (N, *output) instead
                                  of printing them
      --top1                      print the predicted class (and label) per sample only
      --json                      one JSON object: batch, output name and shape, outputs (unless
                                  --top1 or --output), top-1 class and label per sample
      --threads N                 run on N threads (default 1)
      --profile                   also print the time of each step (to standard error)
    """),
    ("bench", """
    usage: strata bench FILE [--batch B[,B...]] [--threads N] [--seconds S] [--json]
      Strata's own latency and throughput on random inputs, then a per-step profile.
      --batch B[,B...]            batch sizes (default 1,16,256)
      --threads N                 threads (default 1)
      --seconds S                 measuring time per batch size (default 1)
      --json                      one JSON object: a row per batch size (median, p10, p90 µs,
                                  µs per sample, GFLOP/s); no profile
    """),
    ("verify", """
    usage: strata verify FILE [--self-test] [--no-crc] [--json]
      Loads the file with every rule of docs/FORMAT.md, checks the CRCs and the payload SHA-256.
      Exit status 0 when every check passed, 1 when one failed.
      --self-test                 also run the embedded reference inputs against their outputs
      --no-crc                    skip the CRC checks (trusted, very large files)
      --json                      one JSON object: each check and "ok"
    """),
    ("tensor", """
    usage: strata tensor FILE NAME
      Writes a stored tensor as raw little-endian f32 to standard output (quantized weights
      dequantized, row-major [out, in]).
    """),
]

/// The help of one subcommand, or nil for an unknown name.
func helpText(_ command: String) -> String {
    commandHelp.first { $0.name == command }.map { $0.text + "\n" } ?? usage
}

/// Prints a subcommand's help and exits 0 when `args` asks for it (`strata CMD --help`, `-h`
/// anywhere after the command, or `strata help CMD`); returns otherwise.
func answerHelp(_ args: [String]) {
    guard let command = args.first else { return }
    if command == "help", args.count == 2 {
        guard commandHelp.contains(where: { $0.name == args[1] }) else { fail("no command '\(args[1])'\n\(usage)") }
        print(helpText(args[1]), terminator: "")
        exit(0)
    }
    guard commandHelp.contains(where: { $0.name == command }),
          args.dropFirst().contains(where: { $0 == "--help" || $0 == "-h" }) else { return }
    print(helpText(command), terminator: "")
    exit(0)
}
