import Synchronization

/// Processing time: the wall clock in a real run, a hand-driven clock in the test harness.
public protocol ProcessingClock: Sendable {
    func now() -> Timestamp
}

public struct WallClock: ProcessingClock {
    public init() {}
    public func now() -> Timestamp { wallClockMillis() }
}

/// Advanced only by the test (the embedded driver's notion of processing time).
public final class ManualClock: ProcessingClock {
    private let millis: Atomic<Int64>
    public init(startingAt start: Timestamp = 0) { millis = Atomic(start) }
    public func now() -> Timestamp { millis.load(ordering: .relaxed) }
    public func set(_ t: Timestamp) { millis.store(t, ordering: .relaxed) }
}
