/// Splits a log message into tokens and marks what is a parameter before the miner compares
/// anything, with hand-written scanners rather than a regex engine:
/// - numbers, UUIDs, URLs, paths, `host:port` endpoints and dotted host names with digits are
///   one parameter each (wrapping punctuation kept: `(/tmp/x):` → `(<*>):`);
/// - otherwise each piece of a token (split at punctuation) is a parameter when it holds a
///   free-standing digit run (`blk_123`, `27>`), is hex (`0x1f`, 8+ hex digits with a digit),
///   or a number with a short unit (`41C`, `16ms`); a sign before a number belongs to it;
/// - a date such as `Fri Jun 17 07:07:00 2005` is one parameter;
/// - the user's masks (regexes) mark more parameters: a piece they touch is one, and a run of
///   parameters they produce (`16.0 B`) is one. Masks that cannot match across whitespace run
///   on the tokens that could hold a match (`TokenMask`), the others on the whole message.
/// Tokens come out normalised (`TemplateNormalizer`) in one flat byte buffer: it starts with a
/// copy of the message, which words (most tokens, unchanged by normalising) point into, and
/// the normalised tokens that differ from their text follow it. One copy per message instead
/// of one per token.
final class LogTokenizer {
    /// Keeps the regexes alive: the tokenizer matches through their `matcher`s.
    let masks: [PCRERegex]
    /// The masks run on whole messages, and those run token by token.
    private let messageMasks: [PCRERegex.Matcher]
    private let tokenMasks: [TokenMask]

    /// One token of the last message: its normalised bytes are `bytes[start..<end]` (within the
    /// message's copy at the start of `bytes` when normalising left it as it was), the raw
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
    /// Per raw token: the bytes it holds (noted while splitting).
    private var rawBytes = ScratchBuffer<ByteSet>(capacity: 256)
    private var maskRanges = ScratchBuffer<Range<Int>>(capacity: 64)
    private var pieces = ScratchBuffer<UInt8>(capacity: 1024)
    private var scratch = ScratchBuffer<UInt8>(capacity: 4096)

    /// `byToken: false` runs every mask on whole messages (to check that both find the same).
    init(masks: [PCRERegex], byToken: Bool = true) {
        self.masks = masks
        let local = masks.filter { byToken && TokenMask.isTokenLocal($0.pattern) }
        tokenMasks = local.map(TokenMask.init)
        messageMasks = masks.filter { m in !local.contains { $0 === m } }.map(\.matcher)
    }

    deinit {
        bytes.deallocate(); tokens.deallocate(); raw.deallocate(); rawBytes.deallocate(); maskRanges.deallocate(); pieces.deallocate(); scratch.deallocate()
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
        bytes.append(message)
        tokens.count = 0
        splitAtWhitespace(message)
        if !masks.isEmpty { findMaskRanges(message) }
        var k = 0
        while k < raw.count {
            if DateRecognizer.mayStart(message, raw[k]), let dateEnd = DateRecognizer.end(of: message, tokens: raw.buffer, from: k) {
                let start = Int32(bytes.count)
                TemplateNormalizer.appendWildcard(&bytes)
                tokens.append(Token(start: start, end: Int32(bytes.count), rawStart: Int32(raw[k].lowerBound),
                                    rawEnd: Int32(raw[dateEnd - 1].upperBound), fromMask: false))
                k = dateEnd
                continue
            }
            appendToken(message, raw[k], mayHoldParameter: rawBytes[k].low & ByteClass.parameterHintBits != 0)
            k += 1
        }
    }

    /// Splits at whitespace and notes the bytes each token holds, in one pass: whether any
    /// parameter rule could apply (a digit, `/` or `<`) and which token masks could match.
    private func splitAtWhitespace(_ s: UnsafeBufferPointer<UInt8>) {
        raw.count = 0
        rawBytes.count = 0
        let n = s.count
        var i = 0
        while i < n {
            while i < n && ByteClass.isSpace(s[i]) { i += 1 }
            let start = i
            var held = ByteSet()
            while i < n {
                let c = s[i]
                if c < 64 {
                    let bit = UInt64(1) << UInt64(c)
                    if bit & ByteClass.spaceBits != 0 { break }
                    held.low |= bit
                } else if c < 128 {
                    held.high |= UInt64(1) << UInt64(c &- 64)
                } else {
                    held.nonASCII = true
                }
                i += 1
            }
            if i > start {
                raw.append(start..<i)
                rawBytes.append(held)
            }
        }
    }

    /// The ranges of the last message the masks match (non-empty ones).
    private func findMaskRanges(_ message: UnsafeBufferPointer<UInt8>) {
        maskRanges.count = 0
        for mask in messageMasks {
            mask.forEachMatch(in: message) { if !$0.isEmpty { maskRanges.append($0) } }
        }
        // Locals, so that the loop does not reload the tokenizer's fields around every call.
        let tokens = raw.buffer, held = rawBytes.buffer
        tokenMasks.withUnsafeBufferPointer { masks in
            for mask in masks {
                for k in 0..<tokens.count where mask.mayMatch(length: tokens[k].count, holding: held[k]) {
                    let r = tokens[k]
                    mask.matcher.forEachMatch(in: UnsafeBufferPointer(rebasing: message[r])) {
                        if !$0.isEmpty { maskRanges.append(($0.lowerBound + r.lowerBound)..<($0.upperBound + r.lowerBound)) }
                    }
                }
            }
        }
    }

    /// The ranges the masks match in `message`, in order (for tests).
    func maskRanges(in message: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
        tokenize(message)
        return maskRanges.buffer.sorted { ($0.lowerBound, $0.upperBound) < ($1.lowerBound, $1.upperBound) }
    }

    private func touchesMask(_ r: Range<Int>) -> Bool {
        for m in maskRanges.buffer where m.overlaps(r) { return true }
        return false
    }

    private func appendToken(_ message: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, mayHoldParameter: Bool) {
        let token = UnsafeBufferPointer(rebasing: message[range])
        let masked = !masks.isEmpty && touchesMask(range)
        // Most tokens are words: with no digit, no slash and no mask on them, no rule applies,
        // and the token is its text in the message's copy.
        if !masked && !mayHoldParameter {
            tokens.append(Token(start: Int32(range.lowerBound), end: Int32(range.upperBound), rawStart: Int32(range.lowerBound), rawEnd: Int32(range.upperBound), fromMask: false))
            return
        }
        let start = Int32(bytes.count)
        // A whole parameter, bare or wrapped (`(<*>):`), is already normal: wrappers are path
        // and piece delimiters and one `<*>` has nothing to merge with. Only marked pieces
        // need the normaliser's passes.
        if Recognizers.isNumber(token) {
            TemplateNormalizer.appendWildcard(&bytes)
        } else if let core = Recognizers.core(of: token), Recognizers.isWholeParameter(UnsafeBufferPointer(rebasing: token[core])) {
            bytes.append(UnsafeBufferPointer(rebasing: token[..<core.lowerBound]))
            TemplateNormalizer.appendWildcard(&bytes)
            bytes.append(UnsafeBufferPointer(rebasing: token[core.upperBound...]))
        } else {
            pieces.count = 0
            markPieces(token, offset: range.lowerBound)
            TemplateNormalizer.normalize(pieces.buffer, into: &bytes, scratch: &scratch)
        }
        let normalized = bytes.slice(Int(start)..<bytes.count)
        // A run of parameters the masks made is one parameter: `<*>` then `<*>,` is `<*>,`.
        // (A `<*>` token was written by normalising, so it ends where this one starts.)
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
