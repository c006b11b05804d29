/// How a source (or `assignTimestamps`) derives event time and watermarks from records.
///
/// Watermarks follow Flink's bounded-out-of-orderness rule: `max timestamp seen - bound - 1`,
/// emitted after each batch of records. A split that sees no records for `idleTimeout` of
/// processing time is marked idle so that it does not hold back the downstream watermark.
public struct WatermarkStrategy<T>: Sendable {
    public var timestamp: @Sendable (T) -> Timestamp
    public var outOfOrderness: TimeSpan
    public var idleTimeout: TimeSpan?
    /// How far (in event time) a split may run ahead of the source's slowest split; nil: no
    /// limit. See `withWatermarkAlignment`.
    public var maxAlignmentDrift: TimeSpan?

    public static func boundedOutOfOrderness(_ bound: TimeSpan,
                                             timestamp: @escaping @Sendable (T) -> Timestamp) -> WatermarkStrategy {
        WatermarkStrategy(timestamp: timestamp, outOfOrderness: bound, idleTimeout: nil, maxAlignmentDrift: nil)
    }

    /// Timestamps never decrease within a split.
    public static func ascending(timestamp: @escaping @Sendable (T) -> Timestamp) -> WatermarkStrategy {
        WatermarkStrategy(timestamp: timestamp, outOfOrderness: .zero, idleTimeout: nil, maxAlignmentDrift: nil)
    }

    public func withIdleness(_ timeout: TimeSpan) -> WatermarkStrategy {
        var copy = self
        copy.idleTimeout = timeout
        return copy
    }

    /// Keeps the source's splits within `maxDrift` of event time of each other (Flink's
    /// watermark alignment, per source): a split whose watermark is further ahead of the
    /// slowest active split pauses until it catches up. This bounds the state that keyed
    /// windows downstream hold open when one split runs ahead of the others.
    public func withWatermarkAlignment(maxDrift: TimeSpan) -> WatermarkStrategy {
        var copy = self
        copy.maxAlignmentDrift = maxDrift
        return copy
    }
}
