/// How records on an edge between two tasks are spread over the downstream subtasks.
public enum Partitioning: Sendable {
    /// Subtask i feeds subtask i (equal parallelism).
    case forward
    /// Round-robin over all downstream subtasks.
    case rebalance
    /// By key group (`keyBy`): the downstream subtask owning the record's key group.
    case keyGroups
    /// Every record to every downstream subtask.
    case broadcast
}

/// Thrown inside tasks when the job is being cancelled (another task failed, or the user
/// cancelled): unwinds the task without being reported as its own failure.
struct JobCancelled: Error {}

/// One downstream channel: an inbox and the channel index within it.
struct ChannelTarget {
    let inbox: TaskInbox
    let channel: Int
}

/// Batches a task's output records per downstream channel and hands full batches to the
/// channels. Control events (watermarks, idleness, end of input) flush the batches first so
/// that they stay in order with the records.
final class RecordWriter<T: Sendable>: EventSink {
    private let targets: [ChannelTarget]
    /// One batch being filled per target, in raw memory: the per-record append is a store and
    /// an increment (no uniqueness or capacity check, no reference counting). A full batch is
    /// moved into an array — recycled from the consumer when one is available — to be sent.
    private let slots: UnsafeMutablePointer<StreamRecord<T>>
    private let filled: UnsafeMutablePointer<Int>
    private let batchSize: Int
    /// For `.keyGroups`: the channel of each key group.
    private let channelOfKeyGroup: UnsafeMutablePointer<Int>
    private let metrics: TaskMetrics
    /// For `.rebalance`: the next channel.
    private let roundRobin: UnsafeMutablePointer<Int>
    /// The latest watermark this writer was given, and the latest sent on each channel.
    private var watermark: Timestamp = .min
    private var sentWatermark: [Timestamp]
    /// Channels whose partial batch is holding back `watermark` (see `processWatermark`).
    private var watermarkWaiting: [Bool]
    private(set) var push: Push<T>! = nil
    /// False when the task runs on a shared worker thread, which must never block (see
    /// `TaskInbox.send`); the task then checks `hasRoom` before each step instead.
    var waitsWhenFull = true

    /// - Parameter keyHashOf: for `.keyGroups`, the stable hash of a record's key.
    init(targets: [ChannelTarget], partitioning: Partitioning, keyHashOf: ((T) -> UInt64)?,
         maxParallelism: Int, batchSize: Int, metrics: TaskMetrics) {
        self.targets = targets
        self.batchSize = batchSize
        self.metrics = metrics
        self.slots = .allocate(capacity: targets.count * batchSize)
        self.filled = .allocate(capacity: targets.count)
        self.filled.initialize(repeating: 0, count: targets.count)
        self.channelOfKeyGroup = .allocate(capacity: partitioning == .keyGroups ? maxParallelism : 0)
        self.roundRobin = .allocate(capacity: 1)
        self.roundRobin.initialize(to: 0)
        let n = targets.count
        self.sentWatermark = Array(repeating: .min, count: n)
        self.watermarkWaiting = Array(repeating: false, count: n)
        // The push closures touch only raw memory per record (`BatchSlots`) and reach the
        // writer, captured `unowned(unsafe)`, only for a full batch: calling a method on
        // `self` per record retained and released the writer each time (~10 ns, a third of a
        // keyed source's time in the runtime benchmark). The task owns its writers for as
        // long as anything can push into them.
        let batch = BatchSlots(slots: slots, filled: filled, batchSize: batchSize)
        switch partitioning {
        case .forward:
            precondition(n == 1, "a forward edge has exactly one target channel")
            push = Push { [unowned(unsafe) self] v, ts in
                if batch.append(v, ts, to: 0) { try self.flush(0, urgent: false) }
            }
        case .rebalance:
            let next = roundRobin
            push = Push { [unowned(unsafe) self] v, ts in
                let t = next.pointee
                next.pointee = t + 1 == n ? 0 : t + 1
                if batch.append(v, ts, to: t) { try self.flush(t, urgent: false) }
            }
        case .keyGroups:
            guard let keyHashOf else { preconditionFailure("keyGroups partitioning without a key selector") }
            // Key group -> channel, computed once: the hot path is one table look-up.
            for g in 0..<maxParallelism {
                channelOfKeyGroup[g] = KeyGroups.subtask(forKeyGroup: g, maxParallelism: maxParallelism, parallelism: n)
            }
            let route = KeyGroupRoute(keyHashOf: keyHashOf, channelOfKeyGroup: channelOfKeyGroup, maxParallelism: maxParallelism)
            // Runs (a collection source's blocks) are routed in one loop: a call per record
            // through the chain's closures cost the source ~1.5 ns of its ~5 per record in the
            // runtime benchmark.
            push = Push({ [unowned(unsafe) self] v, ts in
                let t = route.channel(of: v)
                if batch.append(v, ts, to: t) { try self.flush(t, urgent: false) }
            }, runs: { [unowned(unsafe) self] values, stamps in
                for i in 0..<values.count {
                    let t = route.channel(of: values[i])
                    if batch.append(values[i], stamps[i], to: t) { try self.flush(t, urgent: false) }
                }
            })
        case .broadcast:
            push = Push { [unowned(unsafe) self] v, ts in
                for t in 0..<n {
                    if batch.append(v, ts, to: t) { try self.flush(t, urgent: false) }
                }
            }
        }
    }

    deinit {
        for t in targets.indices { (slots + t * batchSize).deinitialize(count: filled[t]) }
        slots.deallocate()
        filled.deallocate()
        channelOfKeyGroup.deallocate()
        roundRobin.deallocate()
    }

    private func flush(_ target: Int, urgent: Bool) throws {
        let count = filled[target]
        guard count > 0 else { return }
        var batch = reusableBuffer(target)
        let start = slots + target * batchSize
        batch.append(contentsOf: UnsafeBufferPointer(start: start, count: count))
        start.deinitialize(count: count)
        filled[target] = 0
        metrics.recordsOut += count
        try send(.records(batch, count: count), to: target, urgent: urgent)
        // Every record of this channel that preceded the latest watermark has now been sent.
        if sentWatermark[target] < watermark { try sendWatermark(to: target) }
    }

    private func sendWatermark(to target: Int) throws {
        sentWatermark[target] = watermark
        watermarkWaiting[target] = false
        try send(.watermark(watermark), to: target)
    }

    private func reusableBuffer(_ target: Int) -> ContiguousArray<StreamRecord<T>> {
        let t = targets[target]
        if let recycled = t.inbox.reusableBuffer(channel: t.channel) {
            var buffer = recycled as! ContiguousArray<StreamRecord<T>>
            buffer.removeAll(keepingCapacity: true)
            return buffer
        }
        var buffer = ContiguousArray<StreamRecord<T>>()
        buffer.reserveCapacity(batchSize)
        return buffer
    }

    /// Sends partial batches too: the producer is about to go idle, or a control event follows.
    func flushAll() throws {
        for t in targets.indices { try flush(t, urgent: true) }
    }

    private func send(_ element: StreamElement, to target: Int, urgent: Bool = true) throws {
        let t = targets[target]
        guard let blocked = t.inbox.send(element, to: t.channel, urgent: urgent, waitWhenFull: waitsWhenFull) else {
            throw JobCancelled()
        }
        metrics.backpressureNanos += blocked
    }

    private func broadcast(_ element: StreamElement) throws {
        try flushAll()
        for t in targets.indices { try send(element, to: t) }
    }

    /// A watermark may follow a channel's records late, never early: on a channel with a
    /// partial batch it waits for that batch to fill, so that a watermark per source batch does
    /// not cut every channel's batch in pieces. It waits at most until the next watermark, which
    /// sends the batch as it is.
    func processWatermark(_ watermark: Timestamp, input: Int) throws {
        self.watermark = watermark
        for t in targets.indices where sentWatermark[t] < watermark {
            if filled[t] == 0 {
                try sendWatermark(to: t)
            } else if watermarkWaiting[t] {
                try flush(t, urgent: true)
            } else {
                watermarkWaiting[t] = true
            }
        }
    }
    func processWatermarkStatus(idle: Bool, input: Int) throws { try broadcast(.watermarkStatus(idle: idle)) }
    func endInput(_ input: Int) throws { try broadcast(.endOfData) }
    func emitBarrier(_ id: Int64) throws { try broadcast(.barrier(id)) }
    func closeChannels() throws { try broadcast(.endOfPartition) }

    func hasRoom(orWake worker: WorkerParker) -> Bool {
        for t in targets where !t.inbox.hasRoom(channel: t.channel, orWake: worker) { return false }
        return true
    }
}

/// The type-erased face of a record writer for the (non-generic) task.
protocol Flushable: AnyObject {
    func flushAll() throws
    func emitBarrier(_ id: Int64) throws
    func closeChannels() throws
    var waitsWhenFull: Bool { get set }
    /// Whether every downstream channel has room; if not, `worker` is woken when one that
    /// had none has drained.
    func hasRoom(orWake worker: WorkerParker) -> Bool
}
extension RecordWriter: Flushable {}

/// The channel of a record's key group, by a table computed once.
struct KeyGroupRoute<T> {
    let keyHashOf: (T) -> UInt64
    let channelOfKeyGroup: UnsafeMutablePointer<Int>
    let groups: UInt64
    /// x % 2^k == x & (2^k - 1), without the division; 0 when not a power of two.
    let groupMask: UInt64

    init(keyHashOf: @escaping (T) -> UInt64, channelOfKeyGroup: UnsafeMutablePointer<Int>, maxParallelism: Int) {
        self.keyHashOf = keyHashOf
        self.channelOfKeyGroup = channelOfKeyGroup
        groups = UInt64(maxParallelism)
        groupMask = maxParallelism.nonzeroBitCount == 1 ? groups - 1 : 0
    }

    @inline(__always)
    func channel(of value: T) -> Int {
        let hash = KeyGroups.murmurMix(keyHashOf(value))
        return channelOfKeyGroup[Int(truncatingIfNeeded: groupMask != 0 ? hash & groupMask : hash % groups)]
    }
}

/// A record writer's per-channel batches being filled, as raw pointers the push closures
/// capture by value: appending is a store and an increment, with no reference counted.
struct BatchSlots<T> {
    let slots: UnsafeMutablePointer<StreamRecord<T>>
    let filled: UnsafeMutablePointer<Int>
    let batchSize: Int

    /// Appends to `target`'s batch; true when that batch is now full (flush it).
    @inline(__always)
    func append(_ value: T, _ ts: Timestamp, to target: Int) -> Bool {
        let count = filled[target]
        (slots + (target &* batchSize &+ count)).initialize(to: StreamRecord(value, timestamp: ts))
        filled[target] = count &+ 1
        return count &+ 1 == batchSize
    }
}
