@testable import Detectors
import XCTest

/// The token table's hash and comparison read several bytes at a time; both must depend on
/// the bytes alone (not on where they sit) and never on bytes outside the token.
final class TokenTableTests: XCTestCase {
    func testHashDependsOnTheBytesAloneAndTellsLengthsApart() {
        var seen: [UInt64: [UInt8]] = [:]
        for n in 0...40 {
            let token = (0..<n).map { UInt8(0x61 + $0 % 26) }
            // The same bytes at every alignment, with different bytes around them.
            var hashes: Set<UInt64> = []
            for offset in 0..<8 {
                var buffer = [UInt8](repeating: UInt8(offset), count: offset) + token + [UInt8](repeating: 0xFF, count: 9)
                buffer.withUnsafeMutableBufferPointer { b in
                    _ = hashes.insert(TokenTable.hash(UnsafeBufferPointer(rebasing: b[offset..<(offset + n)])))
                }
            }
            XCTAssertEqual(hashes.count, 1, "length \(n)")
            XCTAssertNil(seen[hashes.first!], "length \(n) hashes like \(seen[hashes.first!] ?? [])")
            seen[hashes.first!] = token
        }
        // Trailing NUL bytes are bytes: "a" and "a\0" differ.
        XCTAssertNotEqual([UInt8(0x61)].withUnsafeBufferPointer(TokenTable.hash), [UInt8(0x61), 0].withUnsafeBufferPointer(TokenTable.hash))
    }

    func testBytesEqualFindsADifferenceAtEveryPosition() {
        for n in 0...33 {
            let a = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) }
            XCTAssertTrue(equal(a, a), "length \(n)")
            for k in 0..<n {
                var b = a
                b[k] ^= 0x20
                XCTAssertFalse(equal(a, b), "length \(n), byte \(k)")
            }
        }
    }

    func testInterningFindsTokensByContent() {
        var table = TokenTable()
        let words = (0..<3_000).map { Array("token-\($0)-\(String(repeating: "x", count: $0 % 19))".utf8) }
        let ids = words.map { w in w.withUnsafeBufferPointer { table.intern($0, hash: TokenTable.hash($0)) } }
        XCTAssertEqual(Set(ids).count, words.count)
        for (w, id) in zip(words, ids) {
            XCTAssertEqual(w.withUnsafeBufferPointer { table.id(of: $0, hash: TokenTable.hash($0)) }, id)
            XCTAssertEqual(Array(table.bytes(id)), w)
        }
        XCTAssertNil(Array("token-1".utf8).withUnsafeBufferPointer { table.id(of: $0, hash: TokenTable.hash($0)) })
    }

    private func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.withUnsafeBytes { x in b.withUnsafeBytes { y in
            TokenTable.bytesEqual(x.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, y.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, a.count)
        } }
    }
}
