import Testing
@testable import StrataFormat

// SHA-256 against the FIPS 180-4 examples (and the NIST long-message vector); streaming in
// uneven pieces must give the one-shot digest. Agreement with Python's hashlib on real files is
// tested in FixtureFileTests.swift (sha256MatchesHashlib).

@Test(arguments: [
    ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
     "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
])
func sha256FIPSExamples(_ message: String, _ expected: String) {
    #expect(SHA256.hex(SHA256.hash(Array(message.utf8))) == expected)
}

@Test func sha256OfAMillionAs() {
    let a = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
    #expect(SHA256.hex(SHA256.hash(a)) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
}

@Test func sha256StreamingEqualsOneShot() {
    var rng: UInt64 = 0x9E37_79B9_7F4A_7C15
    let bytes = (0..<1000).map { _ -> UInt8 in rng = rng &* 6364136223846793005 &+ 1; return UInt8(truncatingIfNeeded: rng >> 56) }
    let whole = SHA256.hash(bytes)
    // Lengths around the 64-byte block and the 55/56-byte padding boundary, and piece sizes
    // that straddle blocks.
    for n in [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000] {
        let one = SHA256.hash(Array(bytes[0..<n]))
        for piece in [1, 3, 63, 64, 65, 200] {
            var h = SHA256()
            var i = 0
            while i < n { h.update(Array(bytes[i..<min(n, i + piece)])); i += piece }
            #expect(h.finalize() == one, "n \(n) piece \(piece)")
        }
    }
    #expect(whole.count == 32)
    var h = SHA256()
    h.update(bytes)
    #expect(h.finalize() == h.finalize(), "finalize leaves the hash unchanged")
}
