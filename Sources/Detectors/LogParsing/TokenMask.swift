/// A user mask whose matches never cross whitespace, run token by token instead of over the
/// whole message. Scanning every message with every mask was two fifths of the miner's time;
/// most tokens cannot hold a match (a word has no digit for `(\d+\.){3}\d+`, no dot for a
/// host-name mask), and PCRE2's own analysis of the pattern (first bytes, a byte every match
/// holds, minimum length) against the bytes a token holds, noted while splitting, rules them
/// out without a call.
///
/// Exact: for a pattern `isTokenLocal` accepts, the matches found in each token alone are the
/// matches found in the whole message (see there), so the miner's output is the same.
struct TokenMask {
    /// The regex's matcher: the tokenizer keeps the regex itself alive (`LogTokenizer.masks`).
    let matcher: PCRERegex.Matcher
    private let firstBytes: ByteSet
    /// The byte every match holds as a set of one, or every byte when there is none.
    private let requiredBytes: ByteSet
    private let minLength: Int

    init(_ regex: PCRERegex) {
        matcher = regex.matcher
        let shape = regex.matchShape
        firstBytes = shape.firstBytes.map(ByteSet.init) ?? .all
        requiredBytes = shape.requiredByte.map { var one = ByteSet(); one.insert($0); return one } ?? .all
        minLength = shape.minLength
    }

    /// Whether a token of `length` bytes holding `bytes` could contain a match.
    @inline(__always) func mayMatch(length: Int, holding bytes: ByteSet) -> Bool {
        length >= minLength && bytes.intersects(firstBytes) && bytes.intersects(requiredBytes)
    }

    /// Whether every match of `pattern` lies within one whitespace-separated token (no match
    /// holds a space, tab, CR or LF) and is found there alone as in the whole message: nothing
    /// in the pattern looks beyond the match except `\b`/`\B`, which see a token's edge the
    /// same way whether the neighbour is whitespace or the end of the subject. Conservative:
    /// anything it does not know (`.`, `\s`, negated classes, anchors, lookaround, inline
    /// options, back references, escapes by code) keeps the mask on whole messages.
    static func isTokenLocal(_ pattern: String) -> Bool {
        let p = Array(pattern.utf8)
        var i = 0
        while i < p.count {
            let c = p[i]
            switch c {
            case UInt8(ascii: "\\"):
                guard i + 1 < p.count, let _ = escape(p[i + 1], allowed: "dwSbB") else { return false }
                i += 2
            case UInt8(ascii: "["):
                guard let end = classEnd(p, from: i) else { return false }
                i = end
            case UInt8(ascii: "("):
                // Plain and non-capturing groups only: `(?=`, `(?<=`, `(?i)`, `(*VERB)` and the
                // rest change what a match depends on.
                if i + 1 < p.count && (p[i + 1] == UInt8(ascii: "?") || p[i + 1] == UInt8(ascii: "*")) {
                    guard p[i + 1] == UInt8(ascii: "?"), i + 2 < p.count, p[i + 2] == UInt8(ascii: ":") else { return false }
                    i += 3
                } else {
                    i += 1
                }
            case UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "$"):
                return false
            default:
                // Literals, `)`, `|` and quantifiers (`{` reads as one or as a literal: both fine).
                if ByteClass.isSpace(c) { return false }
                i += 1
            }
        }
        return true
    }

    /// The literal an escape stands for, `0` for one of the `allowed` letter escapes, or nil
    /// when it is another letter or digit escape (classes, anchors, references, codes) or whitespace.
    private static func escape(_ e: UInt8, allowed: String) -> UInt8? {
        let isAlphanumeric = ByteClass.isLetter(e) || ByteClass.isDigit(e)
        if isAlphanumeric { return allowed.utf8.contains(e) ? 0 : nil }
        return ByteClass.isSpace(e) ? nil : e
    }

    /// The index after the class opened at `start` when it cannot hold whitespace, else nil.
    private static func classEnd(_ p: [UInt8], from start: Int) -> Int? {
        var j = start + 1
        guard j < p.count, p[j] != UInt8(ascii: "^") else { return nil }
        var first = true
        while j < p.count {
            let c = p[j]
            if c == UInt8(ascii: "]") && !first { return j + 1 }
            first = false
            if c == UInt8(ascii: "[") && j + 1 < p.count && [UInt8(ascii: ":"), UInt8(ascii: "."), UInt8(ascii: "=")].contains(p[j + 1]) {
                return nil  // POSIX classes
            }
            var literal: UInt8?
            if c == UInt8(ascii: "\\") {
                guard j + 1 < p.count, let e = escape(p[j + 1], allowed: "dwS") else { return nil }
                literal = e == 0 ? nil : e
                j += 2
            } else {
                if ByteClass.isSpace(c) { return nil }
                literal = c
                j += 1
            }
            // A range: neither end may be an escape class, and it may not span whitespace.
            if let low = literal, j + 1 < p.count, p[j] == UInt8(ascii: "-"), p[j + 1] != UInt8(ascii: "]") {
                var high = p[j + 1]
                if high == UInt8(ascii: "\\") {
                    guard j + 2 < p.count, let e = escape(p[j + 2], allowed: ""), e != 0 else { return nil }
                    high = e
                    j += 3
                } else {
                    j += 2
                }
                guard low <= high, !(low...high).contains(where: ByteClass.isSpace) else { return nil }
            }
        }
        return nil
    }
}

/// A set of byte values: the bytes a token holds, or those a match may start with.
struct ByteSet: Equatable {
    var low: UInt64 = 0
    var high: UInt64 = 0
    /// Any byte of 128 or above (UTF-8 beyond ASCII), not told apart.
    var nonASCII = false

    static let all = ByteSet(low: ~0, high: ~0, nonASCII: true)

    init(low: UInt64 = 0, high: UInt64 = 0, nonASCII: Bool = false) {
        self.low = low
        self.high = high
        self.nonASCII = nonASCII
    }

    init(_ members: [Bool]) {
        for (b, member) in members.enumerated() where member { insert(UInt8(b)) }
    }

    @inline(__always) mutating func insert(_ b: UInt8) {
        if b < 64 { low |= 1 << UInt64(b) } else if b < 128 { high |= 1 << UInt64(b &- 64) } else { nonASCII = true }
    }

    @inline(__always) func contains(_ b: UInt8) -> Bool {
        b < 64 ? low >> UInt64(b) & 1 != 0 : b < 128 ? high >> UInt64(b &- 64) & 1 != 0 : nonASCII
    }

    @inline(__always) func intersects(_ other: ByteSet) -> Bool {
        (low & other.low) | (high & other.high) != 0 || (nonASCII && other.nonASCII)
    }
}
