import Foundation

/// Scrapes a `/metrics` endpoint and reads Prometheus' text exposition format, strictly: a
/// line that is not HELP, TYPE of a known type, or `name{labels} value` is an error.
public enum PrometheusScrape {
    public struct FormatError: Error, CustomStringConvertible {
        public var description: String
    }

    /// The endpoint's text, or nil when it does not answer.
    public static func fetch(port: Int) -> String? {
        guard let data = try? Data(contentsOf: URL(string: "http://127.0.0.1:\(port)/metrics")!) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// The samples by series (`name{label="value",...}`).
    public static func parse(_ text: String) throws -> [String: Double] {
        var samples: [String: Double] = [:]
        let sample = try NSRegularExpression(pattern: #"^([a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})?) (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$"#)
        for line in text.split(separator: "\n").map(String.init) {
            if line.hasPrefix("# HELP ") { continue }
            if line.hasPrefix("# TYPE ") {
                let type = line.split(separator: " ").last.map(String.init) ?? ""
                guard ["counter", "gauge", "histogram", "summary", "untyped"].contains(type) else { throw FormatError(description: "unknown type: \(line)") }
                continue
            }
            let range = NSRange(line.startIndex..., in: line)
            guard let m = sample.firstMatch(in: line, range: range), let key = Range(m.range(at: 1), in: line),
                  let value = Range(m.range(at: 5), in: line), let v = Double(line[value]) else {
                throw FormatError(description: "not Prometheus text format: \(line)")
            }
            samples[String(line[key])] = v
        }
        return samples
    }
}
