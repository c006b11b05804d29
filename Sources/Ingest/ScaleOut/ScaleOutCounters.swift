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
    /// Stateful partitions this process owns now.
    public let ownedPartitions = Atomic<Int>(0)
    /// Where the job's thread spent its time, nanoseconds: reading and decoding input,
    /// running the stateful partitions, writing repartition batches, committing, and polls
    /// that found no message (waiting).
    public let inputNanos = Atomic<Int>(0)
    public let statefulNanos = Atomic<Int>(0)
    public let batchNanos = Atomic<Int>(0)
    public let commitLoopNanos = Atomic<Int>(0)
    public let waitNanos = Atomic<Int>(0)
    /// When the stateful stage last emitted output (monotonic clock, nanoseconds): the end of
    /// processing, before the commit that makes the output visible.
    public let lastEmittedNanos = Atomic<Int>(0)

    /// One line for logs: the counts and where the time went.
    public var summary: String {
        func ms(_ a: borrowing Atomic<Int>) -> Int { a.load(ordering: .relaxed) / 1_000_000 }
        return "\(shuffled.load(ordering: .relaxed)) records shuffled, \(applied.load(ordering: .relaxed)) applied, "
            + "\(repeated.load(ordering: .relaxed)) repeats dropped, \(commits.load(ordering: .relaxed)) partition commits; "
            + "time: input \(ms(inputNanos)) ms, stateful \(ms(statefulNanos)) ms, batches \(ms(batchNanos)) ms, commits \(ms(commitLoopNanos)) ms, polls without messages \(ms(waitNanos)) ms; "
            + "last output emitted at \(lastEmittedNanos.load(ordering: .relaxed)) ns (monotonic clock)"
    }
}
