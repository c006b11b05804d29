/// How a source (or `assignTimestamps`) derives event time and watermarks from records.
///
/// Watermarks follow Flink's bounded-out-of-orderness rule: `max timestamp seen - bound - 1`,
/// emitted after each batch of records. A split that sees no records for `idleTimeout` of
/// processing time is marked idle so that it does not hold back the downstream watermark.
public struct WatermarkStrategy<T>: Sendable {
    public var timestamp: @Sendable (T) -> Timestamp
    public var outOfOrderness: TimeSpan
    public var idleTimeout: TimeSpan?

    public static func boundedOutOfOrderness(_ bound: TimeSpan,
                                             timestamp: @escaping @Sendable (T) -> Timestamp) -> WatermarkStrategy {
        WatermarkStrategy(timestamp: timestamp, outOfOrderness: bound, idleTimeout: nil)
    }

    /// Timestamps never decrease within a split.
    public static func ascending(timestamp: @escaping @Sendable (T) -> Timestamp) -> WatermarkStrategy {
        WatermarkStrategy(timestamp: timestamp, outOfOrderness: .zero, idleTimeout: nil)
    }

    public func withIdleness(_ timeout: TimeSpan) -> WatermarkStrategy {
        var copy = self
        copy.idleTimeout = timeout
        return copy
    }
}
