/// A Loghub `log_format`: literal text with `<Field>` placeholders, e.g.
/// `<Date> <Time> <Level> \[<Process>\] <Component>: <Content>`. As in Loghub's tools, the
/// text between fields is a regex fragment (so `\[` is a bracket and `(...)?` an optional
/// part), a run of spaces matches any run of whitespace, and each field matches lazily. The
/// `Content` field is what the template miner sees. Not thread-safe (it owns PCRE2 match data).
public final class LogFormat {
    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    public let format: String
    public let fields: [String]
    private let regex: PCRERegex
    private let groups: [Int]
    private let contentGroup: Int

    public init(_ format: String) throws {
        self.format = format
        var pattern = "^"
        var fields: [String] = []
        var rest = Substring(format)
        while let open = rest.firstIndex(of: "<") {
            guard let close = rest[open...].firstIndex(of: ">") else {
                throw Invalid(description: "log format '\(format)': '<' without a closing '>'")
            }
            pattern += Self.literal(rest[..<open])
            let name = String(rest[rest.index(after: open)..<close])
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw Invalid(description: "log format '\(format)': field name '<\(name)>' must be letters, digits or _")
            }
            guard !fields.contains(name) else {
                throw Invalid(description: "log format '\(format)': field <\(name)> appears twice")
            }
            fields.append(name)
            pattern += "(?<\(name)>.*?)"
            rest = rest[rest.index(after: close)...]
        }
        pattern += Self.literal(rest) + "$"
        guard fields.contains("Content") else {
            throw Invalid(description: "log format '\(format)' has no <Content> field")
        }
        do {
            regex = try PCRERegex(pattern)
        } catch let error as PCRERegex.CompileError {
            throw Invalid(description: "log format '\(format)' is not a valid pattern: \(error.reason)")
        }
        self.fields = fields
        let compiled = regex
        groups = fields.map { compiled.groupNumber($0)! }
        contentGroup = compiled.groupNumber("Content")!
    }

    private static func literal(_ text: Substring) -> String {
        var out = ""
        var inSpaces = false
        for c in text {
            if c == " " {
                if !inSpaces { out += "\\s+" }
                inSpaces = true
            } else {
                out.append(c)
                inSpaces = false
            }
        }
        return out
    }

    /// The byte range of the Content field in `line`, or nil when the line does not match.
    public func content(of line: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        guard regex.firstMatch(in: line) != nil else { return nil }
        return regex.group(contentGroup)
    }

    /// Every field of `line` in format order (an optional field that is absent is ""), or nil.
    public func fieldValues(of line: UnsafeBufferPointer<UInt8>) -> [String]? {
        guard regex.firstMatch(in: line) != nil else { return nil }
        return groups.map { g in
            regex.group(g).map { String(decoding: UnsafeBufferPointer(rebasing: line[$0]), as: UTF8.self) } ?? ""
        }
    }
}
