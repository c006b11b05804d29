/// Writes a template token the way the corrected Loghub ground truth writes templates (the
/// rules of Khan et al., ICSE 2022, applied by their tooling and by Loghub-2.0), so that the
/// same parameter always prints the same way whatever the parser saw first:
/// - a path (`/a/b`, between path delimiters) is one parameter;
/// - a piece of pure digits is a parameter, and a piece that holds a parameter is one
///   (`blk_<*>` → `<*>`, but `core.<*>` stays: `.` separates pieces);
/// - parameters joined by `.` or by nothing are one (`<*>.<*>.<*>` → `<*>`).
/// Token-local: none of these rules crosses whitespace, so tokens normalise one at a time.
enum TemplateNormalizer {
    /// `input` normalised, appended to `output`; `scratch` is working space.
    static func normalize(_ input: UnsafeBufferPointer<UInt8>, into output: inout ScratchBuffer<UInt8>, scratch: inout ScratchBuffer<UInt8>) {
        // Each pass at most triples the length (a one-digit piece becomes `<*>`).
        scratch.count = 0
        scratch.reserve(input.count * 3 + 3)
        collapsePaths(input, into: &scratch)
        let start = output.count
        output.reserve(scratch.count * 3 + 3)
        collapsePieces(scratch.buffer, into: &output)
        // The last pass shrinks: done in place over what collapsePieces wrote.
        let written = output.count - start
        scratch.count = 0
        scratch.append(output.base + start, count: written)
        output.count = start
        mergeAdjacentWildcards(scratch.buffer, appendingTo: &output)
    }

    private static func collapsePaths(_ s: UnsafeBufferPointer<UInt8>, into out: inout ScratchBuffer<UInt8>) {
        var i = 0
        while i < s.count {
            if ByteClass.isPathDelimiter(s[i]) {
                out.append(s[i])
                i += 1
                continue
            }
            var j = i
            while j < s.count && !ByteClass.isPathDelimiter(s[j]) { j += 1 }
            if isPath(UnsafeBufferPointer(rebasing: s[i..<j])) {
                appendWildcard(&out)
            } else {
                out.append(UnsafeBufferPointer(rebasing: s[i..<j]))
            }
            i = j
        }
    }

    /// `(/[^/]+)+`: starts with a slash, no empty part, does not end with one.
    private static func isPath(_ s: UnsafeBufferPointer<UInt8>) -> Bool {
        guard s.count >= 2, s[0] == UInt8(ascii: "/"), s[s.count - 1] != UInt8(ascii: "/") else { return false }
        for k in 1..<s.count where s[k] == UInt8(ascii: "/") && s[k - 1] == UInt8(ascii: "/") { return false }
        return true
    }

    private static func collapsePieces(_ s: UnsafeBufferPointer<UInt8>, into out: inout ScratchBuffer<UInt8>) {
        var i = 0
        while i < s.count {
            if ByteClass.isTokenDelimiter(s[i]) {
                out.append(s[i])
                i += 1
                continue
            }
            var j = i
            var allDigits = true
            var hasWildcard = false
            var hasSlash = false
            while j < s.count && !ByteClass.isTokenDelimiter(s[j]) {
                let c = s[j]
                if !ByteClass.isDigit(c) { allDigits = false }
                if c == UInt8(ascii: "/") { hasSlash = true }
                if s.hasWildcard(at: j) { hasWildcard = true }
                j += 1
            }
            if allDigits || (hasWildcard && !hasSlash) {
                appendWildcard(&out)
            } else {
                out.append(UnsafeBufferPointer(rebasing: s[i..<j]))
            }
            i = j
        }
    }

    /// `<*>.<*>` and `<*><*>` become `<*>`, repeatedly, in one left-to-right pass.
    private static func mergeAdjacentWildcards(_ s: UnsafeBufferPointer<UInt8>, appendingTo out: inout ScratchBuffer<UInt8>) {
        let start = out.count
        var i = 0
        while i < s.count {
            if s.hasWildcard(at: i) {
                let n = out.count - start
                if n >= 3 && endsWithWildcard(out, at: out.count) {
                    // joined directly: already written
                } else if n >= 4 && out[out.count - 1] == UInt8(ascii: ".") && endsWithWildcard(out, at: out.count - 1) {
                    out.count -= 1
                } else {
                    appendWildcard(&out)
                }
                i += 3
            } else {
                out.append(s[i])
                i += 1
            }
        }
    }

    @inline(__always)
    static func appendWildcard(_ out: inout ScratchBuffer<UInt8>) {
        out.append(0x3C); out.append(0x2A); out.append(0x3E)
    }

    @inline(__always)
    private static func endsWithWildcard(_ out: ScratchBuffer<UInt8>, at end: Int) -> Bool {
        end >= 3 && out[end - 3] == 0x3C && out[end - 2] == 0x2A && out[end - 1] == 0x3E
    }
}
