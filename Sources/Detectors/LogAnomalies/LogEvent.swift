import Stream

/// A log message as the log-anomaly operator reads it: whose it is, when, how severe.
public struct LogEvent: Sendable, Equatable {
    /// The service (or any key) whose templates and rates are tracked together.
    public var service: String
    /// OTLP SeverityNumber: 1–4 TRACE, 5–8 DEBUG, 9–12 INFO, 13–16 WARN, 17–20 ERROR, 21–24 FATAL
    /// (0: unspecified).
    public var severityNumber: Int32
    public var message: String

    public init(service: String, severityNumber: Int32, message: String) {
        self.service = service
        self.severityNumber = severityNumber
        self.message = message
    }

    /// ERROR or FATAL.
    public var isError: Bool { severityNumber >= 17 }
}

/// What the log-anomaly operator reports, for a service: a template never seen before, a
/// template whose rate moved away from its baseline, or a burst of error-severity messages.
public struct LogAnomaly: Sendable, Equatable, Codable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable, Codable {
        case newTemplate = "new_template"
        case rateShift = "rate_shift"
        case errorBurst = "error_burst"
    }

    public var kind: Kind
    public var service: String
    /// The window the figures are about ([start, end) in event time); for a new template, the
    /// window it appeared in.
    public var windowStart: Timestamp
    public var windowEnd: Timestamp
    /// The template concerned (nil for an error burst).
    public var templateID: UInt64?
    public var template: String?
    /// Messages in the window, and what the baseline expected.
    public var observed: Double
    public var expected: Double
    /// How far from the baseline, in standard deviations (0 for a new template).
    public var score: Double

    public var description: String {
        switch kind {
        case .newTemplate:
            return "\(service): new log template \(templateID.map(String.init) ?? "?") \"\(template ?? "")\""
        case .rateShift:
            return "\(service): template \(templateID.map(String.init) ?? "?") \"\(template ?? "")\" at \(Int(observed)) per window, baseline \(Self.format(expected)) (z \(Self.format(score)))"
        case .errorBurst:
            return "\(service): \(Int(observed)) error messages in a window, baseline \(Self.format(expected)) (z \(Self.format(score)))"
        }
    }

    static func format(_ x: Double) -> String {
        let r = (x * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(r)
    }
}
