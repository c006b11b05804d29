/// How a job checkpoints (`StreamEnvironment.checkpointing`).
public struct CheckpointConfig: Sendable {
    /// The state directory: checkpoints, savepoints.
    public var directory: String
    /// Time between periodic checkpoints; nil: only on demand (`JobHandle.triggerCheckpoint`).
    /// The embedded (test) driver ignores it: there, checkpoints are taken on demand only.
    public var interval: TimeSpan?
    /// A checkpoint not complete after this long is aborted; the job keeps running.
    public var timeout: TimeSpan = .minutes(10)
    /// Complete checkpoints kept; older ones are deleted. Savepoints are never deleted.
    public var retained: Int = 3
    public var restore: RestorePolicy = .latest
    /// When completed checkpoints exist but none verifies: start with empty state (true) or
    /// refuse to start (false, the default: state that took hours to build is not dropped
    /// silently). Checkpoints that never completed alone do not count: nothing was committed.
    public var allowFreshStartWithoutValidCheckpoint = false

    public enum RestorePolicy: Sendable, Equatable {
        /// The newest complete checkpoint whose checksums verify, skipping corrupt ones.
        case latest
        /// Start empty (existing checkpoints are left alone; new ids continue above them).
        case none
        /// A given checkpoint or savepoint directory; an error if it does not verify.
        case from(String)
    }

    public init(directory: String, interval: TimeSpan? = .seconds(10)) {
        self.directory = directory
        self.interval = interval
    }
}

/// A finished checkpoint or savepoint, as reported to whoever asked for it.
public struct CompletedCheckpoint: Sendable, CustomStringConvertible {
    public var id: Int64
    public var isSavepoint: Bool
    public var directory: String
    /// Trigger to metadata written.
    public var durationNanos: UInt64
    /// The longest synchronous part over the tasks (the time a task stopped processing).
    public var syncNanos: UInt64
    /// CPU time of encoding, compressing and writing the state files (summed over tasks; one
    /// I/O thread): what a checkpoint takes from processing on a busy machine.
    public var asyncNanos: UInt64
    public var bytes: Int
    public var description: String {
        "\(isSavepoint ? "savepoint" : "checkpoint") \(id) at \(directory): \(bytes) bytes in \(durationNanos / 1_000_000) ms (sync \(syncNanos / 1_000) µs)"
    }
}

/// A checkpoint that did not complete.
public struct CheckpointAbortedError: Error, CustomStringConvertible {
    public var id: Int64
    public var reason: String
    public var description: String { "checkpoint \(id) aborted: \(reason)" }
}
