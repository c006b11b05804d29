/// How one inbox channel reaches the task's head operator.
struct ChannelBinding {
    /// Casts a batch to its record type and pushes each record into the head operator.
    let drain: (any Sendable) throws -> Void
    /// The head operator's logical input (0, or 1 for the second input of `connect`).
    let input: Int
    /// The channel's index within that input's gate.
    let gateChannel: Int
}

/// One parallel instance of a chain of operators: the unit that runs on one thread. All of
/// its work — records, watermarks, timers, end of input — happens in the methods below, called
/// by exactly one driver thread (a dedicated thread, or the embedded test driver).
final class StreamTask {
    let name: String
    let operators: [StreamOperator]
    let head: StreamOperator
    let source: (any SourceDriving)?
    let inbox: TaskInbox?
    let channels: [ChannelBinding]
    private var gates: [InputGate]
    let writers: [any Flushable]
    let metrics: TaskMetrics
    let clock: any ProcessingClock
    /// All input channels closed (operator tasks), or the source is done and — when the job
    /// checkpoints — its final checkpoint completed. The driver then closes the outputs.
    private(set) var isFinished = false
    private let batchEndOperators: [StreamOperator]

    // Checkpoints
    /// Receives the synchronous part of each snapshot, to be written off this thread and
    /// acknowledged (set by the driver when the job checkpoints).
    var onSnapshot: ((_ id: Int64, _ entries: [TaskStateFile.Entry], _ syncNanos: UInt64) -> Void)?
    /// Called once when a source's input is exhausted (the coordinator then takes the final
    /// checkpoint).
    var onSourceExhausted: (() -> Void)?
    private(set) var sourceExhausted = false
    private var finalCheckpoint: Int64?
    /// Barrier alignment: the checkpoint being aligned and the channels that delivered it.
    private var aligningCheckpoint: Int64?
    private var barrierReceived: [Bool]
    private var channelClosed: [Bool]
    private var closedChannels = 0
    private var lastCheckpoint: Int64 = 0

    init(name: String, operators: [StreamOperator], source: (any SourceDriving)?, inbox: TaskInbox?,
         channels: [ChannelBinding], gateSizes: [Int], writers: [any Flushable], metrics: TaskMetrics,
         clock: any ProcessingClock) {
        self.name = name
        self.operators = operators
        self.head = operators[0]
        self.source = source
        self.inbox = inbox
        self.channels = channels
        self.gates = gateSizes.map { InputGate(channels: $0) }
        self.writers = writers
        self.metrics = metrics
        self.clock = clock
        self.batchEndOperators = operators.filter { $0 is BatchEndObserving }
        self.barrierReceived = Array(repeating: false, count: channels.count)
        self.channelClosed = Array(repeating: false, count: channels.count)
    }

    func open() throws {
        for op in operators { try op.open() }
    }

    /// Source tasks: watermark alignment holds the source back (see `SourceSplitAlignment`).
    func sourceHeldBack(orWake worker: WorkerParker?) -> Bool {
        source?.isHeldBack(orWake: worker) ?? false
    }

    /// Source tasks: read and push one batch.
    func emitSourceBatch(limit: Int) throws -> SourceReadResult {
        guard let source else { preconditionFailure("not a source task") }
        let result = try source.emitBatch(limit: limit)
        try batchEnd()
        if case .finished = result {
            sourceExhausted = true
            if let onSourceExhausted { onSourceExhausted() } else { isFinished = true }
        }
        return result
    }

    func handle(_ element: StreamElement, channel: Int) throws {
        let binding = channels[channel]
        switch element {
        case .records(let batch, let count):
            metrics.recordsIn += count
            try binding.drain(batch)
            inbox?.recycle(batch, channel: channel)
            try batchEnd()
        case .watermark(let wm):
            if let combined = gates[binding.input].update(channel: binding.gateChannel, watermark: wm) {
                try head.processWatermark(combined, input: binding.input)
            }
        case .watermarkStatus(let idle):
            if let change = gates[binding.input].update(channel: binding.gateChannel, idle: idle) {
                try head.processWatermarkStatus(idle: change, input: binding.input)
            }
        case .endOfData:
            let (wm, idle) = gates[binding.input].end(channel: binding.gateChannel)
            if let wm { try head.processWatermark(wm, input: binding.input) }
            if let idle { try head.processWatermarkStatus(idle: idle, input: binding.input) }
            if gates[binding.input].allEnded { try head.endInput(binding.input) }
        case .barrier(let id):
            try receiveBarrier(id, channel: channel)
        case .endOfPartition:
            channelClosed[channel] = true
            closedChannels += 1
            if aligningCheckpoint != nil { try completeAlignmentIfReady() }
            if closedChannels == channels.count { isFinished = true }
        }
    }

    // MARK: checkpoints

    /// Alignment: a channel that delivered the barrier is paused (its later records belong
    /// to the next checkpoint) until every open channel delivered it; then the task
    /// snapshots and passes the barrier on.
    private func receiveBarrier(_ id: Int64, channel: Int) throws {
        if aligningCheckpoint == nil {
            guard id > lastCheckpoint else { return }  // a stale barrier (cannot happen in order)
            aligningCheckpoint = id
        }
        precondition(aligningCheckpoint == id, "barrier \(id) overtook barrier \(aligningCheckpoint!) on channel \(channel)")
        barrierReceived[channel] = true
        if channels.count > 1 { inbox?.setPaused(true, channel: channel) }
        try completeAlignmentIfReady()
    }

    private func completeAlignmentIfReady() throws {
        guard let id = aligningCheckpoint else { return }
        for c in channels.indices where !barrierReceived[c] && !channelClosed[c] { return }
        aligningCheckpoint = nil
        for c in channels.indices where barrierReceived[c] {
            barrierReceived[c] = false
            if channels.count > 1 { inbox?.setPaused(false, channel: c) }
        }
        try checkpoint(id)
    }

    /// Snapshots every operator of the chain (synchronous part), hands the copies over to be
    /// written, and emits the barrier downstream.
    func checkpoint(_ id: Int64) throws {
        lastCheckpoint = id
        let started = monotonicNanos()
        var entries: [TaskStateFile.Entry] = []
        for op in operators {
            guard let snapshot = try op.snapshotState(checkpointID: id) else { continue }
            entries.append(TaskStateFile.Entry(operatorID: op.info.uid, subtask: op.info.subtask,
                                               parallelism: op.info.parallelism, keyGroups: op.info.keyGroups,
                                               snapshot: snapshot))
        }
        onSnapshot?(id, entries, monotonicNanos() - started)
        for w in writers { try w.emitBarrier(id) }
    }

    func handle(_ mail: TaskMail) throws {
        switch mail {
        case .triggerCheckpoint(let id, let final):
            precondition(source != nil, "only sources are triggered")
            if final { finalCheckpoint = id }
            try flushOutputs()
            try checkpoint(id)
        case .checkpointComplete(let id):
            for op in operators { try op.notifyCheckpointComplete(id) }
            if let f = finalCheckpoint, id >= f, sourceExhausted { isFinished = true }
        case .checkpointAborted(let id):
            for op in operators { op.notifyCheckpointAborted(id) }
        case .stop:
            throw JobCancelled()
        }
    }

    /// The task is over, whichever way (`error`: nil, `JobCancelled`, or a failure); returns
    /// what the job should report. A stopped or cancelled task still acts on completions left
    /// in its mailbox — a stop follows the final checkpoint's completion at once, and a task
    /// busy with a batch, or blocked on a channel whose reader stopped, had not read them —
    /// so what they cover is committed (Kafka offsets, transactions). Its inbox is closed: a
    /// producer still sending to it stops instead of waiting for room that never comes.
    func end(after error: (any Error)?) -> (any Error)? {
        var reported = error
        if error is JobCancelled {
            reported = nil
            do {
                for case .checkpointComplete(let id) in inbox?.takeMail() ?? [] {
                    for op in operators { try op.notifyCheckpointComplete(id) }
                }
            } catch {
                reported = error
            }
        }
        close()
        inbox?.close()
        return reported
    }

    /// The task is done: tells every downstream channel that nothing follows.
    func closeOutputs() throws {
        for w in writers { try w.closeChannels() }
    }

    /// Why the chain's state cannot be checkpointed (after `open`).
    func checkpointProblems() -> [String] { operators.flatMap { $0.checkpointProblems() } }

    private func batchEnd() throws {
        for op in batchEndOperators { try op.onBatchEnd() }
    }

    /// The earliest processing-time timer of any operator in the chain.
    func nextProcessingTime() -> Timestamp? {
        var earliest: Timestamp?
        for op in operators {
            if let t = op.nextProcessingTime(), t < (earliest ?? .max) { earliest = t }
        }
        return earliest
    }

    func fireProcessingTimers(now: Timestamp) throws {
        for op in operators {
            if let t = op.nextProcessingTime(), t <= now { try op.onProcessingTime(now) }
        }
    }

    /// Whether every downstream channel can take more (shared worker threads check this
    /// before each step rather than block in a send); if not, `worker` is woken when it can.
    func outputsHaveRoom(orWake worker: WorkerParker) -> Bool {
        for w in writers where !w.hasRoom(orWake: worker) { return false }
        return true
    }

    /// Sends partially filled batches downstream (before the task waits for input).
    func flushOutputs() throws {
        for w in writers { try w.flushAll() }
    }

    func close() {
        for op in operators { op.close() }
    }
}

/// Operators that act at batch boundaries (e.g. watermark generators) opt in with this.
protocol BatchEndObserving: AnyObject {}
