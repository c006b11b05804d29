import Synchronization

/// What the stages of a scaled-out job did, for logs, `/metrics` and the benchmark.
public final class ScaleOutCounters: Sendable {
    public static let shared = ScaleOutCounters()
    /// Records written to the repartition topic.
    public let shuffled = Atomic<Int>(0)
    /// Records the stateful stage applied (after dropping repeats).
    public let applied = Atomic<Int>(0)
    /// Records the stateful stage had already applied: written again after a failover.
    public let repeated = Atomic<Int>(0)
    public let late = Atomic<Int>(0)
    public let undecodable = Atomic<Int>(0)
    /// Transactions committed by the stateful stage (one per partition per commit).
    public let commits = Atomic<Int>(0)
    /// Time the stateful stage spent committing (checkpoint, transaction), nanoseconds.
    public let commitNanos = Atomic<Int>(0)
    /// Stateful partitions restored, by where the state came from.
    public let restoredFromLocal = Atomic<Int>(0)
    public let restoredFromChangelog = Atomic<Int>(0)
    public let startedEmpty = Atomic<Int>(0)
}
