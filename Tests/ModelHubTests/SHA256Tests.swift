import ModelHub
import XCTest

/// SHA-256 against the FIPS 180-4 / NIST example vectors.
final class SHA256Tests: XCTestCase {
    func testKnownVectors() {
        XCTAssertEqual(SHA256.hex([UInt8]()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        // 448 bits: the padding needs a second block.
        XCTAssertEqual(
            SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        // 896 bits.
        let long = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"
        XCTAssertEqual(SHA256.hex(Array(long.utf8)), "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
        XCTAssertEqual(
            SHA256.hex(Array("The quick brown fox jumps over the lazy dog".utf8)),
            "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592")
    }

    func testOneMillionAs() {
        XCTAssertEqual(
            SHA256.hex([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// The digest does not depend on how the input is cut into updates (block edges, odd sizes).
    func testChunkingDoesNotChangeTheDigest() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        let whole = SHA256.hex(bytes)
        for chunk in [1, 3, 55, 56, 63, 64, 65, 128, 999] {
            var hash = SHA256()
            var start = 0
            while start < bytes.count {
                let end = min(start + chunk, bytes.count)
                hash.update(Array(bytes[start..<end]))
                start = end
            }
            XCTAssertEqual(hash.hexDigest(), whole, "chunk size \(chunk)")
        }
    }

    /// Padding edge cases: lengths around the 56-byte boundary of the last block.
    func testLengthsAroundThePaddingBoundary() {
        // sha256 of 55, 56 and 64 "a" bytes (computed with sha256sum).
        XCTAssertEqual(
            SHA256.hex([UInt8](repeating: 0x61, count: 55)),
            "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318")
        XCTAssertEqual(
            SHA256.hex([UInt8](repeating: 0x61, count: 56)),
            "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a")
        XCTAssertEqual(
            SHA256.hex([UInt8](repeating: 0x61, count: 64)),
            "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb")
    }

    /// `finalize` leaves the running hash usable.
    func testFinalizeDoesNotDisturbTheRunningHash() {
        var hash = SHA256()
        hash.update(Array("ab".utf8))
        _ = hash.hexDigest()
        hash.update(Array("c".utf8))
        XCTAssertEqual(hash.hexDigest(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
