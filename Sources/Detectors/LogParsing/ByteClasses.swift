/// Byte classes the template miner splits and recognises tokens by, as 256-entry tables (one
/// load per byte in the inner loops instead of a chain of comparisons).
enum ByteClass {
    // Each class is a 128-bit set of ASCII bytes in two literal words: a test is a shift and
    // a mask, with no table to load (a `static let` array costs a once-check and a retain on
    // every access, which showed as a fifth of the miner's time).

    /// Separates path-like parts: whitespace and , ! ; : = | " ' [ ] ( ) { }
    @inline(__always) static func isPathDelimiter(_ c: UInt8) -> Bool { member(c, 0x2c00_1387_0000_2600, 0x3800_0000_2800_0000) }
    /// Separates the pieces of a token: the path delimiters and . - + @ # $ % &
    @inline(__always) static func isTokenDelimiter(_ c: UInt8) -> Bool { member(c, 0x2c00_7bff_0000_2600, 0x3800_0000_2800_0001) }
    /// Wrapping punctuation peeled off a token before looking at what it holds: ()[]{},;:"'
    @inline(__always) static func isWrapper(_ c: UInt8) -> Bool { member(c, 0x0c00_1384_0000_0000, 0x2800_0000_2800_0000) }
    /// Letters, digits, _ . -
    @inline(__always) static func isHostCharacter(_ c: UInt8) -> Bool { member(c, 0x03ff_6000_0000_0000, 0x07ff_fffe_87ff_fffe) }
    @inline(__always) static func isHex(_ c: UInt8) -> Bool { member(c, 0x03ff_0000_0000_0000, 0x0000_007e_0000_007e) }

    @inline(__always) private static func member(_ c: UInt8, _ low: UInt64, _ high: UInt64) -> Bool {
        c < 64 ? (low >> UInt64(c)) & 1 != 0 : c < 128 && (high >> UInt64(c &- 64)) & 1 != 0
    }

    @inline(__always) static func isDigit(_ c: UInt8) -> Bool { c &- 0x30 < 10 }
    @inline(__always) static func isLetter(_ c: UInt8) -> Bool { (c | 0x20) &- 0x61 < 26 }
    @inline(__always) static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0A }

    /// Space, tab, CR and LF as a set of bytes below 64.
    static let spaceBits: UInt64 = 1 << 0x20 | 1 << 0x09 | 1 << 0x0D | 1 << 0x0A
    /// Digits, `/` and `<`: a token without any of them is a word no parameter rule applies
    /// to (every rule needs a digit, a slash or a `<*>`).
    static let parameterHintBits: UInt64 = 0x03ff_0000_0000_0000 | 1 << 0x2F | 1 << 0x3C
}

/// The parameter placeholder, as Loghub writes it.
let wildcardBytes: [UInt8] = Array("<*>".utf8)

extension UnsafeBufferPointer<UInt8> {
    /// Whether the bytes from `i` spell `<*>`.
    @inline(__always) func hasWildcard(at i: Int) -> Bool {
        i + 3 <= count && self[i] == 0x3C && self[i + 1] == 0x2A && self[i + 2] == 0x3E
    }
}
