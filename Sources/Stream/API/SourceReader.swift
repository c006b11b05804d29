/// Reads one split of a source (one per source subtask). Called only on its task's thread.
public protocol SourceReader: SendableMetatype {
    associatedtype Record: Sendable
    /// Emits at most `limit` records into `context` and says whether more may come.
    mutating func read(into context: SourceContext<Record>, limit: Int) throws -> SourceReadResult
    /// True when `read` never waits for input (an array, a generator, a local file): such a
    /// source may share a worker thread with other tasks (`ThreadingModel.threadPerCore`).
    /// A reader that polls with a timeout (Kafka, a BPF ring buffer) keeps its own thread.
    static var readsWithoutWaiting: Bool { get }
}

extension SourceReader {
    public static var readsWithoutWaiting: Bool { false }
}

public enum SourceReadResult: Sendable {
    /// Read something; call again.
    case more
    /// Nothing to read right now (an unbounded source waiting for data).
    case nothingAvailable
    /// The split is exhausted; the source ends after this batch.
    case finished
}

/// Where a reader puts records. Timestamps come from the source's watermark strategy unless
/// the reader gives them explicitly.
public final class SourceContext<T: Sendable> {
    @usableFromInline let output: Output<T>
    @usableFromInline let timestampOf: (@Sendable (T) -> Timestamp)?
    /// `timestampOf` unwrapped once, so the per-record path does not copy the optional.
    @usableFromInline let extractTimestamp: @Sendable (T) -> Timestamp
    @usableFromInline let hasTimestamps: Bool
    @usableFromInline var maxTimestamp: Timestamp = .min
    @usableFromInline var emittedInBatch = 0
    /// Watermarks the reader emitted itself (manual sources in tests).
    var explicitWatermark: Timestamp?

    /// The timestamps of a run being emitted (`emit(contentsOf:)`).
    @usableFromInline let timestampScratch = UnsafeMutablePointer<Timestamp>.allocate(capacity: runLength)
    deinit { timestampScratch.deallocate() }

    init(output: Output<T>, timestampOf: (@Sendable (T) -> Timestamp)?) {
        self.output = output
        self.timestampOf = timestampOf
        // Not `??`: passing a closure through a generic function re-abstracts it, and every
        // call then went through two conversion thunks (~1.3 ns per record in the runtime
        // benchmark).
        if let timestampOf {
            self.extractTimestamp = timestampOf
        } else {
            self.extractTimestamp = { _ in noTimestamp }
        }
        self.hasTimestamps = timestampOf != nil
    }

    @inlinable @inline(__always)
    public func emit(_ value: T) throws {
        emittedInBatch &+= 1
        if hasTimestamps {
            let ts = extractTimestamp(value)
            if ts > maxTimestamp { maxTimestamp = ts }
            try output.emit(value, timestamp: ts)
        } else {
            try output.emit(value, timestamp: noTimestamp)
        }
    }

    @inlinable @inline(__always)
    public func emit(_ value: T, timestamp: Timestamp) throws {
        emittedInBatch &+= 1
        if timestamp > maxTimestamp { maxTimestamp = timestamp }
        try output.emit(value, timestamp: timestamp)
    }

    /// Runs `body` with a record emitter whose targets are loaded once, for the whole batch.
    /// Readers with a tight loop use this rather than `emit(_:)` per record: closures loaded
    /// from an object's properties are retained and released around every call.
    @inlinable @inline(__always)
    public func withEmitter<R>(_ body: (_ emit: (T) throws -> Void) throws -> R) rethrows -> R {
        let push = output.target.call
        var maxTs = maxTimestamp
        var emitted = 0
        defer {
            maxTimestamp = maxTs
            emittedInBatch &+= emitted
        }
        if hasTimestamps {
            let timestampOf = extractTimestamp
            return try body { value in
                emitted &+= 1
                let ts = timestampOf(value)
                if ts > maxTs { maxTs = ts }
                try push(value, ts)
            }
        }
        return try body { value in
            emitted &+= 1
            try push(value, noTimestamp)
        }
    }

    /// Emits contiguous records, with the source's timestamps. A target that takes runs (a
    /// keyed record writer) gets them in one call per `runLength` records instead of one per
    /// record.
    @inlinable
    public func emit(contentsOf values: UnsafeBufferPointer<T>) throws {
        guard let run = output.target.callRun else {
            try withEmitter { emit in for v in values { try emit(v) } }
            return
        }
        var start = 0
        while start < values.count {
            let n = Swift.min(values.count - start, Self.runLength)
            let stamps = timestampScratch
            var maxTs = maxTimestamp
            if hasTimestamps {
                let timestampOf = extractTimestamp
                for i in 0..<n {
                    let ts = timestampOf(values[start &+ i])
                    stamps[i] = ts
                    if ts > maxTs { maxTs = ts }
                }
            } else {
                stamps.update(repeating: noTimestamp, count: n)
            }
            maxTimestamp = maxTs
            emittedInBatch &+= n
            try run(UnsafeBufferPointer(rebasing: values[start..<(start &+ n)]), stamps)
            start &+= n
        }
    }

    @usableFromInline static var runLength: Int { 1024 }

    /// For readers that know event-time progress themselves.
    public func emitWatermark(_ watermark: Timestamp) {
        explicitWatermark = max(explicitWatermark ?? .min, watermark)
    }
}

/// A reader whose position can be checkpointed and restored: what makes a source replayable,
/// hence exactly-once. The position is of this subtask's split; a restore gives each subtask
/// back the position its own split had, so the source's parallelism must stay the same
/// unless the reader says otherwise (`redistributesSplits`).
public protocol CheckpointableReader: SourceReader {
    func snapshotPosition(into writer: inout StateWriter)
    /// The position for checkpoint `checkpointID` (readers that commit per checkpoint
    /// remember it here). Throwing fails the checkpoint. By default `snapshotPosition(into:)`.
    func snapshotPosition(checkpointID: Int64, into writer: inout StateWriter) throws
    mutating func restorePosition(from reader: inout StateReader) throws
    /// Commits what checkpoint `id` covered to the outside system (e.g. Kafka offsets). After
    /// a crash this may not have happened; the restore then starts from the checkpoint anyway.
    mutating func checkpointComplete(_ id: Int64) throws
    /// True for readers whose splits are handed out from outside the job (Kafka's consumer
    /// group decides which subtask reads a partition): a restore then gives every subtask the
    /// positions of all old subtasks, one `restorePosition` call each, at any parallelism.
    static var restoresFromAllSplits: Bool { get }
}
extension CheckpointableReader {
    public func snapshotPosition(checkpointID: Int64, into writer: inout StateWriter) throws {
        snapshotPosition(into: &writer)
    }
    public mutating func checkpointComplete(_ id: Int64) throws {}
    public static var restoresFromAllSplits: Bool { false }
}
