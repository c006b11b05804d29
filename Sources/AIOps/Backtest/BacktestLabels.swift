import Foundation
import Stream

/// A time range known to hold an incident, against which a backtest is scored.
public struct LabelledWindow: Sendable, Equatable, Codable {
    public var name: String
    /// Milliseconds since 1970, both inclusive.
    public var start: Int64
    public var end: Int64
    /// Detector series (globs over keys such as `orders * latency_p99`) that should flag
    /// within the window. Empty: the window only scores incidents.
    public var series: [String]
    /// The entity the incident's first cause should name (a glob), if known.
    public var rootCause: String?

    public init(name: String, start: Int64, end: Int64, series: [String] = [], rootCause: String? = nil) {
        self.name = name
        self.start = start
        self.end = end
        self.series = series
        self.rootCause = rootCause
    }

    public func contains(_ t: Int64) -> Bool { t >= start && t <= end }
}

/// Reads a labels file: either Vigil's
///
///     {"windows": [{"name": "db slow", "start": "2026-12-04T10:10:00Z", "end": "2026-12-04T10:13:00Z",
///                   "series": ["orders *"], "root_cause": "postgresql/orders"}]}
///
/// (`name`, `series` and `root_cause` optional), or NAB's combined windows
/// (`{"SERIES KEY": [["START", "END"], ...]}`). Times as `TimeText.parse` reads them.
public enum BacktestLabels {
    public struct LabelsError: Error, CustomStringConvertible {
        public let description: String
    }

    public static func load(path: String) throws -> [LabelledWindow] {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw LabelsError(description: "\(path): cannot read: \(error.localizedDescription)")
        }
        return try parse(data, file: path)
    }

    public static func parse(_ data: Data, file: String) throws -> [LabelledWindow] {
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: data) } catch {
            throw LabelsError(description: "\(file): not JSON: \(error.localizedDescription)")
        }
        guard let object = json as? [String: Any] else { throw LabelsError(description: "\(file): expected a JSON object ({\"windows\": [...]} or NAB's windows)") }
        if let windows = object["windows"] {
            guard object.count == 1 else {
                throw LabelsError(description: "\(file): unknown key(s) \(object.keys.filter { $0 != "windows" }.sorted().joined(separator: ", ")) beside \"windows\"")
            }
            guard let list = windows as? [Any] else { throw LabelsError(description: "\(file): \"windows\" must be a list") }
            return try list.enumerated().map { try window($1, at: "\(file): windows[\($0)]") }
        }
        // NAB: series key → [[start, end], ...]
        return try object.keys.sorted().flatMap { key -> [LabelledWindow] in
            guard let pairs = object[key] as? [Any] else { throw LabelsError(description: "\(file): \"\(key)\": expected a list of [start, end] pairs") }
            return try pairs.enumerated().map { i, pair in
                let at = "\(file): \"\(key)\"[\(i)]"
                guard let p = pair as? [Any], p.count == 2 else { throw LabelsError(description: "\(at): expected [start, end]") }
                let (s, e) = (try time(p[0], at: at + "[0]"), try time(p[1], at: at + "[1]"))
                guard s <= e else { throw LabelsError(description: "\(at): the window ends before it starts") }
                return LabelledWindow(name: "\(key) #\(i + 1)", start: s, end: e, series: [key])
            }
        }
    }

    private static let keys: Set<String> = ["name", "start", "end", "series", "root_cause"]

    private static func window(_ value: Any, at: String) throws -> LabelledWindow {
        guard let w = value as? [String: Any] else { throw LabelsError(description: "\(at): expected an object") }
        if let unknown = w.keys.first(where: { !keys.contains($0) }) {
            throw LabelsError(description: "\(at): unknown key \"\(unknown)\" (known: \(keys.sorted().joined(separator: ", ")))")
        }
        guard let startValue = w["start"] else { throw LabelsError(description: "\(at): \"start\" is missing") }
        guard let endValue = w["end"] else { throw LabelsError(description: "\(at): \"end\" is missing") }
        let start = try time(startValue, at: at + ".start"), end = try time(endValue, at: at + ".end")
        guard start <= end else { throw LabelsError(description: "\(at): the window ends before it starts") }
        var series: [String] = []
        if let s = w["series"] {
            if let one = s as? String { series = [one] } else if let many = s as? [String] { series = many } else {
                throw LabelsError(description: "\(at).series: expected a glob or a list of globs")
            }
        }
        var rootCause: String?
        if let r = w["root_cause"] {
            guard let text = r as? String, !text.isEmpty else { throw LabelsError(description: "\(at).root_cause: expected an entity name (a glob)") }
            rootCause = text
        }
        var name = "window \(TimeText.rfc3339(start))"
        if let n = w["name"] {
            guard let text = n as? String else { throw LabelsError(description: "\(at).name: expected text") }
            name = text
        }
        return LabelledWindow(name: name, start: start, end: end, series: series, rootCause: rootCause)
    }

    private static func time(_ value: Any, at: String) throws -> Int64 {
        if let n = value as? NSNumber, !(value is String) { return n.int64Value }
        if let s = value as? String, let t = TimeText.parse(s) { return t }
        throw LabelsError(description: "\(at): \(value) is not a time (RFC 3339 such as 2026-12-04T10:00:00Z, or milliseconds since 1970)")
    }
}
