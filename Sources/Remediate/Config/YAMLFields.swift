import Foundation
import Yams

/// Reads typed fields out of a composed YAML document, recording a `ConfigProblem` with the
/// line of every value that is missing, unknown or of the wrong type, and going on, so that one
/// pass reports them all.
public final class YAMLFields {
    public let file: String
    public private(set) var problems: [ConfigProblem] = []
    /// Exec programs of the policy being read, checked once it is known whether it is a dry run.
    var programs: [(String, Node)] = []

    public init(file: String) { self.file = file }

    public func problem(_ node: Node?, _ reason: String) {
        problems.append(ConfigProblem(file: file, line: node?.mark?.line ?? 1, reason: reason))
    }

    /// A mapping's entries by key, in order; unknown keys and duplicates are problems.
    public func mapping(_ node: Node, _ what: String, allowed: Set<String>) -> [(key: String, node: Node, value: Node)]? {
        guard case .mapping(let m) = node else {
            problem(node, "\(what) must be a mapping of keys to values")
            return nil
        }
        var seen: Set<String> = []
        var out: [(String, Node, Node)] = []
        for (k, v) in m {
            guard let key = k.scalar?.string else { problem(k, "\(what): keys must be plain words"); continue }
            guard allowed.contains(key) else {
                problem(k, "unknown key '\(key)' in \(what); expected one of: \(allowed.sorted().joined(separator: ", "))")
                continue
            }
            guard seen.insert(key).inserted else { problem(k, "'\(key)' appears twice in \(what)"); continue }
            out.append((key, k, v))
        }
        return out
    }

    public func string(_ node: Node, _ what: String) -> String? {
        guard let s = node.scalar?.string, node.null == nil else {
            problem(node, "\(what) must be a text value")
            return nil
        }
        return s
    }

    public func bool(_ node: Node, _ what: String) -> Bool? {
        guard node.scalar != nil, let b = node.bool else { problem(node, "\(what) must be true or false"); return nil }
        return b
    }

    public func int(_ node: Node, _ what: String, range: ClosedRange<Int>) -> Int? {
        guard node.scalar != nil, let i = node.int else { problem(node, "\(what) must be a whole number"); return nil }
        guard range.contains(i) else { problem(node, "\(what) must be within \(range.lowerBound)...\(range.upperBound), got \(i)"); return nil }
        return i
    }

    /// "250ms", "5s", "10m", "1h", "7d". A bare number is refused: is 30 seconds or minutes?
    public func durationMs(_ node: Node, _ what: String) -> Int64? {
        guard let text = node.scalar?.string else { problem(node, "\(what) must be a duration such as 500ms, 30s, 10m or 1h"); return nil }
        guard let ms = Self.parseDuration(text) else {
            problem(node, "\(what): '\(text)' is not a duration; write a number and a unit: ms, s, m, h or d (e.g. 30s)")
            return nil
        }
        return ms
    }

    static func parseDuration(_ text: String) -> Int64? {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            let digits = text.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)
            if let n = Int64(digits), n >= 0, n <= Int64.max / scale { return n * scale }
        }
        return nil
    }

    /// One value or a list of them.
    public func strings(_ node: Node, _ what: String) -> [String]? {
        if case .sequence(let seq) = node {
            var out: [String] = []
            for item in seq { guard let s = string(item, "each of \(what)") else { return nil }; out.append(s) }
            return out
        }
        return string(node, what).map { [$0] }
    }

    public func stringMap(_ node: Node, _ what: String) -> [String: String]? {
        guard case .mapping(let m) = node else { problem(node, "\(what) must be a mapping of names to text"); return nil }
        var out: [String: String] = [:]
        for (k, v) in m {
            guard let key = k.scalar?.string, let value = string(v, "\(what).\(k.scalar?.string ?? "?")") else { continue }
            if out.updateValue(value, forKey: key) != nil { problem(k, "'\(key)' appears twice in \(what)") }
        }
        return out
    }

    public func template(_ node: Node, _ what: String) -> Template? {
        guard let s = string(node, what) else { return nil }
        do { return try Template(parsing: s) } catch { problem(node, "\(what): \(error)"); return nil }
    }
}
