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
    private(set) var isFinished = false
    private let batchEndOperators: [StreamOperator]

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
    }

    func open() throws {
        for op in operators { try op.open() }
    }

    /// Source tasks: read and push one batch.
    func emitSourceBatch(limit: Int) throws -> SourceReadResult {
        guard let source else { preconditionFailure("not a source task") }
        let result = try source.emitBatch(limit: limit)
        try batchEnd()
        if case .finished = result { isFinished = true }
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
        case .endOfPartition:
            let (wm, idle) = gates[binding.input].end(channel: binding.gateChannel)
            if let wm { try head.processWatermark(wm, input: binding.input) }
            if let idle { try head.processWatermarkStatus(idle: idle, input: binding.input) }
            if gates[binding.input].allEnded {
                try head.endInput(binding.input)
                if gates.allSatisfy(\.allEnded) { isFinished = true }
            }
        }
    }

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
