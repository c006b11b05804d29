/// Byte classes the template miner splits and recognises tokens by, as 256-entry tables (one
/// load per byte in the inner loops instead of a chain of comparisons).
enum ByteClass {
    /// Separates path-like parts: whitespace and , ! ; : = | " ' [ ] ( ) { }
    static let pathDelimiter: [Bool] = table(" \t\r\n,!;:=|\"'[](){}")
    /// Separates the pieces of a token: the path delimiters and . - + @ # $ % &
    static let tokenDelimiter: [Bool] = table(" \t\r\n,!;:=|\"'[](){}.-+@#$%&")
    /// Wrapping punctuation peeled off a token before looking at what it holds.
    static let wrapper: [Bool] = table("()[]{},;:\"'")
    static let hostCharacter: [Bool] = table("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
    static let hex: [Bool] = table("0123456789abcdefABCDEF")

    private static func table(_ members: String) -> [Bool] {
        var t = [Bool](repeating: false, count: 256)
        for b in members.utf8 { t[Int(b)] = true }
        return t
    }

    @inline(__always) static func isDigit(_ c: UInt8) -> Bool { c &- 0x30 < 10 }
    @inline(__always) static func isLetter(_ c: UInt8) -> Bool { (c | 0x20) &- 0x61 < 26 }
    @inline(__always) static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0A }
}

/// The parameter placeholder, as Loghub writes it.
let wildcardBytes: [UInt8] = Array("<*>".utf8)

extension UnsafeBufferPointer<UInt8> {
    /// Whether the bytes from `i` spell `<*>`.
    @inline(__always) func hasWildcard(at i: Int) -> Bool {
        i + 3 <= count && self[i] == 0x3C && self[i + 1] == 0x2A && self[i + 2] == 0x3E
    }
}
