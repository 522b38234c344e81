#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import StrataCore
import StrataEngine

/// `strata verify FILE [--self-test] [--no-crc]`: validates the file completely, re-checks every
/// CRC-32 and the recorded payload SHA-256, and with `--self-test` runs the embedded reference
/// samples. Prints one line per check. Exit status: 0 all checks passed, 1 a check failed
/// (including a file that does not load, or `--self-test` on a file without self-test data),
/// 2 a usage error.
func verify(_ path: String, _ args: [String]) {
    var runSelfTest = false, checkCRCs = true
    for a in args {
        switch a {
        case "--self-test": runSelfTest = true
        case "--no-crc": checkCRCs = false
        default: fail("unknown option '\(a)'\n\(usage)")
        }
    }
    func failed(_ what: String, _ e: Error) -> Never {
        let text = (e as? StrataError).map { "\($0.message) [\($0.status.name)]" } ?? "\(e)"
        print("\(what) FAILED: \(text)")
        fail("\(path): verification failed", code: 1)
    }
    var options = LoadOptions()
    options.verifyChecksums = checkCRCs
    let model: Model
    do { model = try Model(path: path, options: options) } catch { failed("load:", error) }
    print("file:       \(path) (\(model.fileSize) bytes, format \(model.formatVersion.major).\(model.formatVersion.minor))")
    print("structure:  ok (every rule of docs/FORMAT.md; \(model.tensors.count) tensors, \(model.nodes.count) nodes, plan of \(model.steps.count) steps)")
    if checkCRCs {
        let sections: [SectionSummary]
        do { sections = try model.verifyChecksums() } catch { failed("crc32:     ", error) }
        print("crc32:      header ok")
        for (i, s) in sections.enumerated() {
            print("            section \(i) \(s.name)\(s.isOptional ? " (optional)" : ""): \(s.size) bytes, 0x\(hex8(s.crc32)) ok")
        }
    } else {
        print("crc32:      skipped (--no-crc)")
    }
    let digest: String?
    do { digest = try model.verifyPayloadDigest() } catch { failed("sha256:    ", error) }
    print("sha256:     \(digest.map { "\($0) ok" } ?? "not recorded (no '\(Model.payloadDigestKey)' metadata)")")
    if let st = model.selfTestSummary {
        print("self-test:  \(st.sampleCount) reference samples (atol \(st.absoluteTolerance), rtol \(st.relativeTolerance))\(runSelfTest ? "" : "; run them with --self-test")")
    } else {
        print("self-test:  no SELFTEST section")
    }
    if runSelfTest {
        let r: SelfTestResult
        do { r = try model.selfTest() } catch { failed("self-test:", error) }
        print("            \(r.elementCount) output values, max abs error \(r.maxAbsoluteError), \(r.maxErrorRatio) of the tolerance: \(r.passed ? "PASS" : "FAIL")")
        guard r.passed else { fail("\(path): self-test failed: outputs differ from the reference beyond the tolerance", code: 1) }
    }
    print("verified")
}

/// Lower-case hex of a 32-bit value, 8 digits.
func hex8(_ v: UInt32) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: max(0, 8 - s.count)) + s
}
