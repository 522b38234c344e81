import Testing
@testable import StrataCore
@testable import StrataFormat

// Every malformed fixture file of Tests/Fixtures/malformed (written by make_fixtures.py, one
// per rule and variant of docs/FORMAT.md "A reader rejects") is rejected by the mapping reader
// with the status and message its MANIFEST.tsv lists; and SHA256 agrees with Python's hashlib
// on each file.

/// One manifest row.
struct FixtureCase: CustomTestStringConvertible, Sendable {
    var file: String
    /// "format": the reader rejects it; "plan": the reader accepts it and the planner
    /// (StrataEngine, tested through the C ABI by tools/convert/tests/test_fixture_files.py) rejects it.
    var layer: String
    var status: String
    var fragment: String
    var sha256: String
    var testDescription: String { file }
}

/// Tests/Fixtures/malformed, found from this source file's path.
let fixtureDirectory: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(2)  // StrataFormatTests/FixtureFileTests.swift
    return parts.joined(separator: "/") + "/Fixtures/malformed"
}()

/// The manifest's rows (empty when it cannot be read; `manifestIsComplete` then fails).
let fixtureCases: [FixtureCase] = {
    guard let bytes = try? ModelBytes.mapping(path: fixtureDirectory + "/MANIFEST.tsv") else { return [] }
    let text = String(decoding: bytes.buffer, as: UTF8.self)
    return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { line in
        let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        return f.count == 5 ? FixtureCase(file: f[0], layer: f[1], status: f[2], fragment: f[3], sha256: f[4]) : nil
    }
}()

@Test func manifestIsComplete() {
    #expect(fixtureCases.count >= 110)
    #expect(fixtureCases.filter { $0.layer == "plan" }.count == 19)
    // Every status a reader reports has at least one fixture.
    let statuses = Set(fixtureCases.map(\.status))
    for s in ["TRUNCATED", "BAD_MAGIC", "UNSUPPORTED_VERSION", "CHECKSUM_MISMATCH", "MALFORMED", "UNSUPPORTED", "SHAPE_MISMATCH"] {
        #expect(statuses.contains(s), "no fixture for \(s)")
    }
}

@Test(arguments: fixtureCases)
func fixtureFileIsRejected(_ c: FixtureCase) throws {
    let path = fixtureDirectory + "/" + c.file
    do throws(StrataError) {
        let file = try ModelReader.read(path: path)
        if c.layer == "format" { Issue.record("\(c.file) was accepted; expected \(c.status)") }
        #expect(file.nodes.count > 0)
    } catch let e {
        #expect(c.layer == "format", "\(c.file) is a planner case but the reader rejected it: \(e.message)")
        // An empty file is refused by the mapper before the header rule, with its own sentence.
        let fragment = c.file.hasSuffix("-empty-file.strata") ? "is empty (0 bytes)" : c.fragment
        #expect(e.status.name == c.status, "\(c.file): \(e.message)")
        #expect(e.message.contains(fragment), "\(c.file): '\(e.message)' lacks '\(fragment)'")
    }
}

@Test(arguments: fixtureCases)
func sha256MatchesHashlib(_ c: FixtureCase) throws {
    let path = fixtureDirectory + "/" + c.file
    var digest = SHA256.hex(SHA256.hash([]))  // an empty file cannot be mapped
    if !c.file.hasSuffix("-empty-file.strata") {
        let bytes = try ModelBytes.mapping(path: path)
        digest = withExtendedLifetime(bytes) { SHA256.hex(SHA256.hash(bytes.buffer)) }
    }
    #expect(digest == c.sha256)
}
