/// A window of time `[start, end)`.
public struct TimeWindow: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var start: Timestamp
    public var end: Timestamp
    public init(start: Timestamp, end: Timestamp) { self.start = start; self.end = end }
    /// The last timestamp inside the window; results carry it as their event time.
    @inlinable public var maxTimestamp: Timestamp { end - 1 }
    public static func < (a: TimeWindow, b: TimeWindow) -> Bool { (a.end, a.start) < (b.end, b.start) }
    public var description: String { "[\(start), \(end))" }
}

public enum TimeDomain: Sendable {
    case eventTime
    case processingTime
}

/// How records are assigned to windows.
public struct WindowSpec: Sendable {
    public enum Kind: Sendable {
        case tumbling(size: Int64, offset: Int64)
        case sliding(size: Int64, slide: Int64, offset: Int64)
        case session(gap: Int64)
    }
    public var kind: Kind
    public var domain: TimeDomain

    public static func tumbling(_ size: TimeSpan, offset: TimeSpan = .zero, time domain: TimeDomain = .eventTime) -> WindowSpec {
        WindowSpec(kind: .tumbling(size: size.milliseconds, offset: offset.milliseconds), domain: domain)
    }
    public static func sliding(_ size: TimeSpan, every slide: TimeSpan, offset: TimeSpan = .zero,
                               time domain: TimeDomain = .eventTime) -> WindowSpec {
        WindowSpec(kind: .sliding(size: size.milliseconds, slide: slide.milliseconds, offset: offset.milliseconds), domain: domain)
    }
    public static func session(gap: TimeSpan, time domain: TimeDomain = .eventTime) -> WindowSpec {
        WindowSpec(kind: .session(gap: gap.milliseconds), domain: domain)
    }

    func validate() throws {
        switch kind {
        case .tumbling(let size, _):
            guard size > 0 else { throw TopologyError("tumbling window size must be positive, got \(size)ms") }
        case .sliding(let size, let slide, _):
            guard size > 0, slide > 0 else { throw TopologyError("sliding window size and slide must be positive") }
        case .session(let gap):
            guard gap > 0 else { throw TopologyError("session gap must be positive, got \(gap)ms") }
        }
    }
}

/// The start of the latest window (of the given slide and offset) containing `t`
/// (Flink's `TimeWindow.getWindowStartWithOffset`, correct for negative times too).
@inlinable
func windowStart(_ t: Timestamp, slide: Int64, offset: Int64) -> Timestamp {
    let remainder = (t - offset) % slide
    return remainder < 0 ? t - (remainder + slide) : t - remainder
}
