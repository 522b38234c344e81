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
    var runSelfTest = false, checkCRCs = true, json = false
    for a in args {
        switch a {
        case "--self-test": runSelfTest = true
        case "--no-crc": checkCRCs = false
        case "--json": json = true
        default: fail("unknown option '\(a)'\n\(helpText("verify"))")
        }
    }
    // With --json the checks are collected into one object, printed at the end (also on failure).
    var report: [(String, JSON)] = [("file", .string(path))]
    func say(_ line: String) { if !json { print(line) } }
    func failed(_ what: String, _ e: Error) -> Never {
        let text = (e as? StrataError).map { "\($0.message) [\($0.status.name)]" } ?? "\(e)"
        if json {
            let check = what.filter { $0 != ":" && $0 != " " }
            print(JSON.object(report + [("ok", .bool(false)), ("failed", .string(check)), ("error", .string(text))]).text)
            exit(1)
        }
        print("\(what) FAILED: \(text)")
        fail("\(path): verification failed", code: 1)
    }
    var options = LoadOptions()
    options.verifyChecksums = checkCRCs
    let model: Model
    do { model = try Model(path: path, options: options) } catch { failed("load:", error) }
    report += [("file_size", .int(model.fileSize)), ("format", .string("\(model.formatVersion.major).\(model.formatVersion.minor)")),
               ("structure", .object([("ok", .bool(true)), ("tensors", .int(model.tensors.count)), ("nodes", .int(model.nodes.count)),
                                      ("steps", .int(model.steps.count))]))]
    say("file:       \(path) (\(model.fileSize) bytes, format \(model.formatVersion.major).\(model.formatVersion.minor))")
    say("structure:  ok (every rule of docs/FORMAT.md; \(model.tensors.count) tensors, \(model.nodes.count) nodes, plan of \(model.steps.count) steps)")
    if checkCRCs {
        let sections: [SectionSummary]
        do { sections = try model.verifyChecksums() } catch { failed("crc32:     ", error) }
        say("crc32:      header ok")
        for (i, s) in sections.enumerated() {
            say("            section \(i) \(s.name)\(s.isOptional ? " (optional)" : ""): \(s.size) bytes, 0x\(hex8(s.crc32)) ok")
        }
        report.append(("crc32", .object([("ok", .bool(true)), ("sections", .array(sections.map {
            .object([("name", .string($0.name)), ("bytes", .int(Int($0.size))), ("crc32", .string(hex8($0.crc32)))])
        }))])))
    } else {
        say("crc32:      skipped (--no-crc)")
        report.append(("crc32", .null))
    }
    let digest: String?
    do { digest = try model.verifyPayloadDigest() } catch { failed("sha256:    ", error) }
    say("sha256:     \(digest.map { "\($0) ok" } ?? "not recorded (no '\(Model.payloadDigestKey)' metadata)")")
    report.append(("sha256", digest.map { .object([("ok", .bool(true)), ("digest", .string($0))]) } ?? .null))
    if let st = model.selfTestSummary {
        say("self-test:  \(st.sampleCount) reference samples (atol \(st.absoluteTolerance), rtol \(st.relativeTolerance))\(runSelfTest ? "" : "; run them with --self-test")")
    } else {
        say("self-test:  no SELFTEST section")
    }
    if runSelfTest {
        let r: SelfTestResult
        do { r = try model.selfTest() } catch { failed("self-test:", error) }
        say("            \(r.elementCount) output values, max abs error \(r.maxAbsoluteError), \(r.maxErrorRatio) of the tolerance: \(r.passed ? "PASS" : "FAIL")")
        report.append(("self_test", .object([("ok", .bool(r.passed)), ("samples", .int(r.sampleCount)), ("values", .int(r.elementCount)),
                                             ("max_abs_error", .number(r.maxAbsoluteError)), ("max_error_ratio", .number(r.maxErrorRatio))])))
        guard r.passed else {
            if json { print(JSON.object(report + [("ok", .bool(false)), ("failed", .string("self-test"))]).text); exit(1) }
            fail("\(path): self-test failed: outputs differ from the reference beyond the tolerance", code: 1)
        }
    } else {
        report.append(("self_test", model.selfTestSummary.map { .object([("ok", .null), ("samples", .int($0.sampleCount))]) } ?? .null))
    }
    if json { print(JSON.object(report + [("ok", .bool(true))]).text) } else { print("verified") }
}

/// Lower-case hex of a 32-bit value, 8 digits.
func hex8(_ v: UInt32) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: max(0, 8 - s.count)) + s
}
