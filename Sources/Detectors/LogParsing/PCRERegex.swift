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

    /// The group number of a named group.
    public func groupNumber(_ name: String) -> Int? {
        let n = pcre2_substring_number_from_name_8(code, name)
        return n > 0 ? Int(n) : nil
    }

    /// The first match in `subject` at or after `start`: the byte range of the whole match
    /// (group 0), or nil. `group(_:)` then gives capture groups of that match.
    public func firstMatch(in subject: UnsafeBufferPointer<UInt8>, from start: Int = 0) -> Range<Int>? {
        let base = subject.baseAddress ?? UnsafePointer(bitPattern: 1)!
        let rc = jitted
            ? pcre2_jit_match_8(code, base, subject.count, start, 0, matchData, nil)
            : pcre2_match_8(code, base, subject.count, start, 0, matchData, nil)
        guard rc > 0 else { return nil }
        return group(0)
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
        var start = 0
        while start <= subject.count, let r = firstMatch(in: subject, from: start) {
            body(r)
            start = r.isEmpty ? r.upperBound + 1 : r.upperBound
        }
    }
}
