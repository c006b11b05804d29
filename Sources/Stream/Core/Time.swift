/// Event and processing time are milliseconds since the Unix epoch, as in Flink and OTLP-derived
/// records after conversion. `Int64` keeps arithmetic cheap and the sentinels explicit.
public typealias Timestamp = Int64

public enum Watermarks {
    /// Before any watermark has been seen.
    public static let initial: Timestamp = .min
    /// Emitted when a bounded input ends: every event-time timer fires.
    public static let endOfTime: Timestamp = .max
}

/// A record with no event timestamp (none was assigned upstream).
public let noTimestamp: Timestamp = .min

/// Durations in the DSL, in milliseconds.
public struct TimeSpan: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var milliseconds: Int64
    public init(milliseconds: Int64) { self.milliseconds = milliseconds }
    public static func milliseconds(_ ms: Int64) -> TimeSpan { TimeSpan(milliseconds: ms) }
    public static func seconds(_ s: Int64) -> TimeSpan { TimeSpan(milliseconds: s * 1000) }
    public static func minutes(_ m: Int64) -> TimeSpan { TimeSpan(milliseconds: m * 60_000) }
    public static let zero = TimeSpan(milliseconds: 0)
    public static func < (a: TimeSpan, b: TimeSpan) -> Bool { a.milliseconds < b.milliseconds }
    public var description: String { "\(milliseconds)ms" }
}
