import Synchronization

/// Counters of one task, written by its thread (per batch, never per record) and read by
/// anyone (the job's metrics view, tests, later the /metrics endpoint).
public final class TaskMetrics: Sendable {
    public let taskName: String
    private let _recordsIn = Atomic<Int>(0)
    private let _recordsOut = Atomic<Int>(0)
    private let _backpressureNanos = Atomic<UInt64>(0)
    private let _lateRecordsDropped = Atomic<Int>(0)
    private let _cpuNanos = Atomic<UInt64>(0)
    private let _watermark = Atomic<Int64>(.min)
    private let _stepsByOtherWorkers = Atomic<Int>(0)

    init(taskName: String) { self.taskName = taskName }

    /// Records taken from the task's input channels (sources: records read).
    public var recordsIn: Int {
        get { _recordsIn.load(ordering: .relaxed) }
        set { _recordsIn.store(newValue, ordering: .relaxed) }
    }
    /// Records handed to downstream channels (chained hand-offs are not counted).
    public var recordsOut: Int {
        get { _recordsOut.load(ordering: .relaxed) }
        set { _recordsOut.store(newValue, ordering: .relaxed) }
    }
    /// Time the task spent blocked because a downstream channel was full.
    public var backpressureNanos: UInt64 {
        get { _backpressureNanos.load(ordering: .relaxed) }
        set { _backpressureNanos.store(newValue, ordering: .relaxed) }
    }
    /// CPU time of the task's thread (updated when the task ends).
    public var cpuNanos: UInt64 {
        get { _cpuNanos.load(ordering: .relaxed) }
        set { _cpuNanos.store(newValue, ordering: .relaxed) }
    }
    /// The newest watermark the task's last operator emitted (`Int64.min`: none yet).
    public var watermark: Timestamp {
        get { _watermark.load(ordering: .relaxed) }
        set { _watermark.store(newValue, ordering: .relaxed) }
    }
    /// Shared workers: steps of this source that a worker other than its own ran because it
    /// had nothing else to do (see `SharedWorker`).
    public var stepsByOtherWorkers: Int {
        get { _stepsByOtherWorkers.load(ordering: .relaxed) }
        set { _stepsByOtherWorkers.store(newValue, ordering: .relaxed) }
    }
    /// Records that were too late for their window and had no late side output to go to.
    public var lateRecordsDropped: Int {
        get { _lateRecordsDropped.load(ordering: .relaxed) }
        set { _lateRecordsDropped.store(newValue, ordering: .relaxed) }
    }
}

/// A snapshot of every task's counters and channel occupancy.
public struct JobMetrics: Sendable, CustomStringConvertible {
    public struct Task: Sendable {
        public var name: String
        public var recordsIn: Int
        public var recordsOut: Int
        public var backpressureNanos: UInt64
        public var lateRecordsDropped: Int
        public var cpuNanos: UInt64
        /// The newest watermark the task emitted (`Int64.min`: none yet; `.max`: its input ended).
        public var watermark: Timestamp
        /// Per input channel: the most elements ever queued, and the bound.
        public var channelHighWaterMarks: [Int]
        public var channelCapacity: Int
        /// Shared workers: steps of this source run by a worker other than its own.
        public var stepsByOtherWorkers: Int = 0
    }
    public var tasks: [Task]

    public func task(named prefix: String) -> [Task] { tasks.filter { $0.name.hasPrefix(prefix) } }

    public var description: String {
        tasks.map {
            "\($0.name): in=\($0.recordsIn) out=\($0.recordsOut) backpressure=\($0.backpressureNanos / 1_000_000)ms cpu=\($0.cpuNanos / 1_000_000)ms late-dropped=\($0.lateRecordsDropped)"
        }.joined(separator: "\n")
    }
}
