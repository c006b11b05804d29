/// Splits a log message into tokens and marks what is a parameter before the miner compares
/// anything, with hand-written scanners rather than a regex engine:
/// - numbers, UUIDs, URLs, paths, `host:port` endpoints and dotted host names with digits are
///   one parameter each (wrapping punctuation kept: `(/tmp/x):` → `(<*>):`);
/// - otherwise each piece of a token (split at punctuation) is a parameter when it holds a
///   free-standing digit run (`blk_123`, `27>`), is hex (`0x1f`, 8+ hex digits with a digit),
///   or a number with a short unit (`41C`, `16ms`); a sign before a number belongs to it;
/// - a date such as `Fri Jun 17 07:07:00 2005` is one parameter;
/// - the user's masks (regexes) mark more parameters: a piece they touch is one, and a run of
///   parameters they produce (`16.0 B`) is one.
/// Tokens come out normalised (`TemplateNormalizer`) into one flat byte buffer.
struct LogTokenizer {
    private(set) var masks: [Regex]

    /// The tokens of the last `tokenize` call: bytes of token k are `bytes[starts[k]..<ends[k]]`,
    /// the raw text it came from `rawRanges[k]` in the message.
    private(set) var bytes: [UInt8] = []
    private(set) var starts: [Int] = []
    private(set) var ends: [Int] = []
    private(set) var rawRanges: [Range<Int>] = []
    private var fromMask: [Bool] = []

    private var raw: [Range<Int>] = []
    private var maskRanges: [Range<Int>] = []
    private var pieces: [UInt8] = []
    private var normalized: [UInt8] = []
    private var normalizer = TemplateNormalizer()

    init(masks: [Regex]) { self.masks = masks }

    var count: Int { ends.count }

    mutating func tokenize(_ message: UnsafeBufferPointer<UInt8>) {
        bytes.removeAll(keepingCapacity: true)
        starts.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
        rawRanges.removeAll(keepingCapacity: true)
        fromMask.removeAll(keepingCapacity: true)
        maskRanges.removeAll(keepingCapacity: true)
        for mask in masks {
            mask.forEachMatch(in: message) { if !$0.isEmpty { maskRanges.append($0) } }
        }
        splitAtWhitespace(message)
        var k = 0
        while k < raw.count {
            if let dateEnd = DateRecognizer.end(of: message, tokens: raw, from: k) {
                appendWildcardToken(raw: raw[k].lowerBound..<raw[dateEnd - 1].upperBound, fromMask: false)
                k = dateEnd
                continue
            }
            appendToken(message, raw[k])
            k += 1
        }
    }

    private mutating func splitAtWhitespace(_ s: UnsafeBufferPointer<UInt8>) {
        raw.removeAll(keepingCapacity: true)
        var i = 0
        while i < s.count {
            while i < s.count && ByteClass.isSpace(s[i]) { i += 1 }
            let start = i
            while i < s.count && !ByteClass.isSpace(s[i]) { i += 1 }
            if i > start { raw.append(start..<i) }
        }
    }

    private func touchesMask(_ r: Range<Int>) -> Bool {
        for m in maskRanges where m.overlaps(r) { return true }
        return false
    }

    private mutating func appendWildcardToken(raw range: Range<Int>, fromMask masked: Bool) {
        starts.append(bytes.count)
        bytes.append(contentsOf: wildcardBytes)
        ends.append(bytes.count)
        rawRanges.append(range)
        fromMask.append(masked)
    }

    private mutating func appendToken(_ message: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) {
        let token = UnsafeBufferPointer(rebasing: message[range])
        let masked = !maskRanges.isEmpty && touchesMask(range)
        // Most tokens are words: with no digit, no slash and no mask on them, no rule applies.
        if !masked && !Self.mayHoldParameter(token) {
            starts.append(bytes.count)
            bytes.append(contentsOf: token)
            ends.append(bytes.count)
            rawRanges.append(range)
            fromMask.append(false)
            return
        }
        pieces.removeAll(keepingCapacity: true)
        if Recognizers.isNumber(token) {
            pieces.append(contentsOf: wildcardBytes)
        } else if let core = Recognizers.core(of: token), Recognizers.isWholeParameter(UnsafeBufferPointer(rebasing: token[core])) {
            pieces.append(contentsOf: UnsafeBufferPointer(rebasing: token[..<core.lowerBound]))
            pieces.append(contentsOf: wildcardBytes)
            pieces.append(contentsOf: UnsafeBufferPointer(rebasing: token[core.upperBound...]))
        } else {
            markPieces(token, offset: range.lowerBound)
        }
        normalized.removeAll(keepingCapacity: true)
        pieces.withUnsafeBufferPointer { normalizer.normalize($0, appendingTo: &normalized) }
        // A run of parameters the masks made is one parameter: `<*>` then `<*>,` is `<*>,`.
        let previousIsWildcard = ends.count > 0 && ends[ends.count - 1] - starts[starts.count - 1] == 3
            && bytes[bytes.count - 3] == 0x3C && bytes[bytes.count - 2] == 0x2A && bytes[bytes.count - 1] == 0x3E
        var rawRange = range
        if previousIsWildcard && (masked || fromMask[fromMask.count - 1])
            && normalized.starts(with: wildcardBytes) && Self.onlyWildcardsAndDelimiters(normalized) {
            bytes.removeLast(3)
            rawRange = rawRanges.removeLast().lowerBound..<range.upperBound
            starts.removeLast(); ends.removeLast(); fromMask.removeLast()
        }
        starts.append(bytes.count)
        bytes.append(contentsOf: normalized)
        ends.append(bytes.count)
        rawRanges.append(rawRange)
        fromMask.append(masked || rawRange != range)
    }

    /// Whether any parameter rule could apply: every one needs a digit, a slash or `<*>`.
    @inline(__always)
    private static func mayHoldParameter(_ token: UnsafeBufferPointer<UInt8>) -> Bool {
        for c in token where ByteClass.isDigit(c) || c == UInt8(ascii: "/") || c == UInt8(ascii: "<") { return true }
        return false
    }

    private static func onlyWildcardsAndDelimiters(_ s: [UInt8]) -> Bool {
        s.withUnsafeBufferPointer { p in
            var i = 0
            while i < p.count {
                if p.hasWildcard(at: i) { i += 3; continue }
                if !ByteClass.isTokenDelimiter(p[i]) { return false }
                i += 1
            }
            return true
        }
    }

    /// Copies `token` into `pieces`, each parameter piece replaced by `<*>`.
    private mutating func markPieces(_ token: UnsafeBufferPointer<UInt8>, offset: Int) {
        var i = 0
        // The last two pieces written: was the last a lone sign, and what came before it.
        var lastWasSign = false
        var beforeSignWasDelimiter = true
        var lastWasDelimiter = true
        while i < token.count {
            let c = token[i]
            if ByteClass.isTokenDelimiter(c) {
                let isSign = c == UInt8(ascii: "-") || c == UInt8(ascii: "+")
                beforeSignWasDelimiter = lastWasDelimiter
                lastWasSign = isSign
                lastWasDelimiter = true
                pieces.append(c)
                i += 1
                continue
            }
            var j = i
            while j < token.count && !ByteClass.isTokenDelimiter(token[j]) { j += 1 }
            let piece = UnsafeBufferPointer(rebasing: token[i..<j])
            if Recognizers.isParameterPiece(piece) || touchesMask(offset + i..<offset + j) {
                if lastWasSign && beforeSignWasDelimiter { pieces.removeLast() }
                pieces.append(contentsOf: wildcardBytes)
            } else {
                pieces.append(contentsOf: piece)
            }
            lastWasSign = false
            lastWasDelimiter = false
            i = j
        }
    }
}
