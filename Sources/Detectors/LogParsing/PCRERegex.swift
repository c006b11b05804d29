import CPcre2

/// A compiled PCRE2 pattern (Python/Perl syntax), JIT-compiled when the platform allows.
/// Matches run over raw UTF-8 bytes without copying. Not thread-safe: it owns its match data,
/// so each task compiles its own.
public final class PCRERegex {
    public struct CompileError: Error, CustomStringConvertible {
        public var pattern: String
        public var offset: Int
        public var reason: String
        public var description: String { "invalid regex '\(pattern)' at offset \(offset): \(reason)" }
    }

    public let pattern: String
    private let code: OpaquePointer
    private let matchData: OpaquePointer
    private let jitted: Bool

    public init(_ pattern: String) throws {
        self.pattern = pattern
        var errorCode: Int32 = 0
        var errorOffset = 0
        let compiled = pattern.utf8CString.withUnsafeBufferPointer { p -> OpaquePointer? in
            p.withMemoryRebound(to: UInt8.self) {
                pcre2_compile_8($0.baseAddress, $0.count - 1, 0, &errorCode, &errorOffset, nil)
            }
        }
        guard let compiled else {
            var message = [UInt8](repeating: 0, count: 256)
            let n = pcre2_get_error_message_8(errorCode, &message, message.count)
            throw CompileError(pattern: pattern, offset: errorOffset,
                               reason: String(decoding: message.prefix(max(0, Int(n))), as: UTF8.self))
        }
        code = compiled
        jitted = pcre2_jit_compile_8(compiled, UInt32(PCRE2_JIT_COMPLETE)) == 0
        matchData = pcre2_match_data_create_from_pattern_8(compiled, nil)
    }

    deinit {
        pcre2_match_data_free_8(matchData)
        pcre2_code_free_8(code)
    }

    /// What PCRE2's compiler worked out every match must look like, for prefilters
    /// (`TokenMask`): the set of bytes a match can start with (nil: any), the rightmost byte
    /// every match holds after its start (nil: none known), and the shortest match's length.
    var matchShape: (firstBytes: [Bool]?, requiredByte: UInt8?, minLength: Int) {
        var firstType: UInt32 = 0, firstUnit: UInt32 = 0, lastType: UInt32 = 0, lastUnit: UInt32 = 0, minLength: UInt32 = 0
        pcre2_pattern_info_8(code, UInt32(PCRE2_INFO_FIRSTCODETYPE), &firstType)
        pcre2_pattern_info_8(code, UInt32(PCRE2_INFO_FIRSTCODEUNIT), &firstUnit)
        pcre2_pattern_info_8(code, UInt32(PCRE2_INFO_LASTCODETYPE), &lastType)
        pcre2_pattern_info_8(code, UInt32(PCRE2_INFO_LASTCODEUNIT), &lastUnit)
        pcre2_pattern_info_8(code, UInt32(PCRE2_INFO_MINLENGTH), &minLength)
        var bitmap: UnsafePointer<UInt8>? = nil
        pcre2_pattern_info_8(code, UInt32(PCRE2_INFO_FIRSTBITMAP), &bitmap)
        var firstBytes: [Bool]?
        if firstType == 1 {
            firstBytes = (0..<256).map { $0 == Int(firstUnit) }
        } else if let bitmap {
            firstBytes = (0..<256).map { bitmap[$0 >> 3] & UInt8(1 << ($0 & 7)) != 0 }
        }
        return (firstBytes, lastType == 1 ? UInt8(truncatingIfNeeded: lastUnit) : nil, Int(minLength))
    }

    /// The group number of a named group.
    public func groupNumber(_ name: String) -> Int? {
        let n = pcre2_substring_number_from_name_8(code, name)
        return n > 0 ? Int(n) : nil
    }

    /// The first match in `subject` at or after `start`: the byte range of the whole match
    /// (group 0), or nil. `group(_:)` then gives capture groups of that match.
    public func firstMatch(in subject: UnsafeBufferPointer<UInt8>, from start: Int = 0) -> Range<Int>? {
        matcher.firstMatch(in: subject, from: start)
    }

    /// This pattern's matching without the object: a caller that keeps the regex alive and
    /// matches in a loop over many tokens pays no reference counting per call.
    var matcher: Matcher { Matcher(code: code, matchData: matchData, jitted: jitted) }

    struct Matcher {
        fileprivate let code: OpaquePointer
        fileprivate let matchData: OpaquePointer
        fileprivate let jitted: Bool

        func firstMatch(in subject: UnsafeBufferPointer<UInt8>, from start: Int = 0) -> Range<Int>? {
            let base = subject.baseAddress ?? UnsafePointer(bitPattern: 1)!
            let rc = jitted
                ? pcre2_jit_match_8(code, base, subject.count, start, 0, matchData, nil)
                : pcre2_match_8(code, base, subject.count, start, 0, matchData, nil)
            guard rc > 0 else { return nil }
            let ovector = pcre2_get_ovector_pointer_8(matchData)!
            return Int(ovector[0])..<Int(ovector[1])
        }

        /// Calls `body` with each non-overlapping match's range, left to right.
        func forEachMatch(in subject: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Void) {
            var start = 0
            while start <= subject.count, let r = firstMatch(in: subject, from: start) {
                body(r)
                start = r.isEmpty ? r.upperBound + 1 : r.upperBound
            }
        }
    }

    /// Group `n` of the last successful match, or nil when it did not take part.
    public func group(_ n: Int) -> Range<Int>? {
        let ovector = pcre2_get_ovector_pointer_8(matchData)!
        // size_t imports as Int: PCRE2_UNSET (all bits set) reads as -1.
        let lower = Int(ovector[2 * n]), upper = Int(ovector[2 * n + 1])
        guard lower >= 0, upper >= lower else { return nil }
        return lower..<upper
    }

    /// Calls `body` with each non-overlapping match's range, left to right.
    public func forEachMatch(in subject: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Void) {
        matcher.forEachMatch(in: subject, body)
    }
}
