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
final class LogTokenizer {
    let masks: [PCRERegex]

    /// One token of the last message: its normalised bytes are `bytes[start..<end]`, the raw
    /// text it came from `message[rawStart..<rawEnd]`.
    struct Token: BitwiseCopyable {
        var start: Int32
        var end: Int32
        var rawStart: Int32
        var rawEnd: Int32
        /// A mask touched it (for merging runs of masked parameters).
        var fromMask: Bool
    }

    private(set) var bytes = ScratchBuffer<UInt8>(capacity: 4096)
    private(set) var tokens = ScratchBuffer<Token>(capacity: 256)
    private var raw = ScratchBuffer<Range<Int>>(capacity: 256)
    private var maskRanges: [Range<Int>] = []
    private var pieces = ScratchBuffer<UInt8>(capacity: 1024)
    private var scratch = ScratchBuffer<UInt8>(capacity: 4096)

    init(masks: [PCRERegex]) { self.masks = masks }

    deinit {
        bytes.deallocate(); tokens.deallocate(); raw.deallocate(); pieces.deallocate(); scratch.deallocate()
    }

    var count: Int { tokens.count }

    @inline(__always) func token(_ k: Int) -> UnsafeBufferPointer<UInt8> {
        let t = tokens[k]
        return bytes.slice(Int(t.start)..<Int(t.end))
    }

    func rawRange(_ k: Int) -> Range<Int> { Int(tokens[k].rawStart)..<Int(tokens[k].rawEnd) }

    /// `input` normalised into `output` (cleared first), with this tokenizer's working space.
    func normalize(_ input: UnsafeBufferPointer<UInt8>, into output: inout ScratchBuffer<UInt8>) {
        output.count = 0
        TemplateNormalizer.normalize(input, into: &output, scratch: &scratch)
    }

    func tokenize(_ message: UnsafeBufferPointer<UInt8>) {
        bytes.count = 0
        tokens.count = 0
        if !masks.isEmpty {
            maskRanges.removeAll(keepingCapacity: true)
            for mask in masks {
                mask.forEachMatch(in: message) { if !$0.isEmpty { maskRanges.append($0) } }
            }
        }
        splitAtWhitespace(message)
        var k = 0
        while k < raw.count {
            if let dateEnd = DateRecognizer.end(of: message, tokens: raw.buffer, from: k) {
                let start = Int32(bytes.count)
                TemplateNormalizer.appendWildcard(&bytes)
                tokens.append(Token(start: start, end: Int32(bytes.count), rawStart: Int32(raw[k].lowerBound),
                                    rawEnd: Int32(raw[dateEnd - 1].upperBound), fromMask: false))
                k = dateEnd
                continue
            }
            appendToken(message, raw[k])
            k += 1
        }
    }

    private func splitAtWhitespace(_ s: UnsafeBufferPointer<UInt8>) {
        raw.count = 0
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

    private func appendToken(_ message: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) {
        let token = UnsafeBufferPointer(rebasing: message[range])
        let masked = !masks.isEmpty && touchesMask(range)
        let start = Int32(bytes.count)
        // Most tokens are words: with no digit, no slash and no mask on them, no rule applies.
        if !masked && !Self.mayHoldParameter(token) {
            bytes.append(token)
            tokens.append(Token(start: start, end: Int32(bytes.count), rawStart: Int32(range.lowerBound), rawEnd: Int32(range.upperBound), fromMask: false))
            return
        }
        pieces.count = 0
        if Recognizers.isNumber(token) {
            TemplateNormalizer.appendWildcard(&pieces)
        } else if let core = Recognizers.core(of: token), Recognizers.isWholeParameter(UnsafeBufferPointer(rebasing: token[core])) {
            pieces.append(UnsafeBufferPointer(rebasing: token[..<core.lowerBound]))
            TemplateNormalizer.appendWildcard(&pieces)
            pieces.append(UnsafeBufferPointer(rebasing: token[core.upperBound...]))
        } else {
            markPieces(token, offset: range.lowerBound)
        }
        TemplateNormalizer.normalize(pieces.buffer, into: &bytes, scratch: &scratch)
        let normalized = bytes.slice(Int(start)..<bytes.count)
        // A run of parameters the masks made is one parameter: `<*>` then `<*>,` is `<*>,`.
        var rawStart = range.lowerBound
        if let previous = tokens.last, previous.end - previous.start == 3, bytes.buffer.hasWildcard(at: Int(previous.start)),
           masked || previous.fromMask, normalized.hasWildcard(at: 0), Self.onlyWildcardsAndDelimiters(normalized) {
            // Drop the previous `<*>`: this token's bytes move back over it.
            let n = normalized.count
            (bytes.base + Int(previous.start)).update(from: bytes.base + Int(start), count: n)
            bytes.count = Int(previous.start) + n
            rawStart = Int(previous.rawStart)
            tokens.count -= 1
            tokens.append(Token(start: previous.start, end: Int32(bytes.count), rawStart: Int32(rawStart), rawEnd: Int32(range.upperBound), fromMask: true))
            return
        }
        tokens.append(Token(start: start, end: Int32(bytes.count), rawStart: Int32(rawStart), rawEnd: Int32(range.upperBound), fromMask: masked))
    }

    /// Whether any parameter rule could apply: every one needs a digit, a slash or `<*>`.
    @inline(__always)
    private static func mayHoldParameter(_ token: UnsafeBufferPointer<UInt8>) -> Bool {
        for c in token where ByteClass.isDigit(c) || c == UInt8(ascii: "/") || c == UInt8(ascii: "<") { return true }
        return false
    }

    private static func onlyWildcardsAndDelimiters(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        while i < p.count {
            if p.hasWildcard(at: i) { i += 3; continue }
            if !ByteClass.isTokenDelimiter(p[i]) { return false }
            i += 1
        }
        return true
    }

    /// Copies `token` into `pieces`, each parameter piece replaced by `<*>`.
    private func markPieces(_ token: UnsafeBufferPointer<UInt8>, offset: Int) {
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
            if Recognizers.isParameterPiece(piece) || (!masks.isEmpty && touchesMask(offset + i..<offset + j)) {
                if lastWasSign && beforeSignWasDelimiter { pieces.count -= 1 }
                TemplateNormalizer.appendWildcard(&pieces)
            } else {
                pieces.append(piece)
            }
            lastWasSign = false
            lastWasDelimiter = false
            i = j
        }
    }
}
