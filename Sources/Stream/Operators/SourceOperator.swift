/// What the task needs from a source operator, whatever its record type.
protocol SourceDriving: AnyObject {
    /// Reads one batch and pushes it through the chain; emits watermarks, idleness and,
    /// at the end, the final watermark and end of input.
    func emitBatch(limit: Int) throws -> SourceReadResult
    var readsWithoutWaiting: Bool { get }
    /// Watermark alignment holds this split back for now; `worker`, if given, is woken when
    /// it may read again.
    func isHeldBack(orWake worker: WorkerParker?) -> Bool
}

/// The head of a source task: drives a reader and turns its event time into watermarks.
final class SourceOperator<Reader: SourceReader>: StreamOperator, SourceDriving {
    typealias T = Reader.Record
    private var reader: Reader
    let output: Output<T>
    private let context: SourceContext<T>
    private let outOfOrderness: Timestamp
    private let idleTimeout: Timestamp?
    private var lastActivity: Timestamp = 0
    private var isIdle = false
    private let alignment: SourceSplitAlignment?
    private let maxAlignmentDrift: Timestamp
    /// The read loop, built in `init` (which the specialised factory calls with concrete
    /// types) so that it is specialised too: `emitBatch` is reached through a protocol and
    /// would otherwise read every record through unspecialised generic code.
    private var readBatch: ((Int) throws -> SourceReadResult)!

    init(info: OperatorInfo, runtime: OperatorRuntime, reader: Reader, strategy: WatermarkStrategy<T>?,
         idleTimeout: TimeSpan? = nil) {
        self.reader = reader
        self.output = Output()
        self.context = SourceContext(output: output, timestampOf: strategy?.timestamp)
        self.outOfOrderness = strategy?.outOfOrderness.milliseconds ?? 0
        self.idleTimeout = (idleTimeout ?? strategy?.idleTimeout)?.milliseconds
        self.maxAlignmentDrift = strategy?.maxAlignmentDrift?.milliseconds ?? 0
        self.alignment = strategy?.maxAlignmentDrift == nil ? nil : runtime.splitAlignment
        super.init(info: info, inputs: 0, runtime: runtime)
        outputs = [output]
        readBatch = { [unowned(unsafe) self] limit in try self.reader.read(into: self.context, limit: limit) }
    }

    var readsWithoutWaiting: Bool { Reader.readsWithoutWaiting }

    func isHeldBack(orWake worker: WorkerParker?) -> Bool {
        guard let alignment else { return false }
        return !alignment.mayRead(split: info.subtask, maxDrift: maxAlignmentDrift, orWake: worker)
    }

    override func open() throws { lastActivity = processingClock.now() }

    func emitBatch(limit: Int) throws -> SourceReadResult {
        context.emittedInBatch = 0
        let result: SourceReadResult
        do {
            result = try readBatch(limit)
        } catch {
            throw wrap(error, context: "reading its input")
        }
        let emitted = context.emittedInBatch
        metrics.recordsIn += emitted
        if emitted > 0 || context.explicitWatermark != nil {
            lastActivity = processingClock.now()
            if isIdle {
                isIdle = false
                alignment?.setExcluded(split: info.subtask, false)
                try emitWatermarkStatus(idle: false)
            }
        }
        if let wm = context.explicitWatermark {
            context.explicitWatermark = nil
            alignment?.report(split: info.subtask, watermark: wm)
            try emitWatermark(wm)
        } else if emitted > 0, context.timestampOf != nil, context.maxTimestamp > .min {
            let wm = context.maxTimestamp &- outOfOrderness &- 1
            alignment?.report(split: info.subtask, watermark: wm)
            try emitWatermark(wm)
        }
        switch result {
        case .finished:
            alignment?.setExcluded(split: info.subtask, true)
            try emitWatermark(Watermarks.endOfTime)
            for o in outputs { try o.forwardEndInput() }
        case .nothingAvailable:
            if let idleTimeout, !isIdle, processingClock.now() - lastActivity >= idleTimeout {
                isIdle = true
                alignment?.setExcluded(split: info.subtask, true)
                try emitWatermarkStatus(idle: true)
            }
        case .more:
            break
        }
        return result
    }

    // MARK: checkpoints

    override func checkpointProblems() -> [String] {
        reader is any CheckpointableReader ? []
            : ["source '\(info.name)': its reader \(Reader.self) cannot be checkpointed (it does not conform to CheckpointableReader)"]
    }

    override func snapshotState(checkpointID: Int64) throws -> OperatorSnapshot? {
        guard let r = reader as? any CheckpointableReader else { throw CheckpointFailure(checkpointProblems().joined()) }
        var w = StateWriter()
        try r.snapshotPosition(checkpointID: checkpointID, into: &w)
        return OperatorSnapshot(operatorState: w.bytes)
    }

    override func restoreState(_ state: RestoredOperatorState) throws {
        guard var r = reader as? any CheckpointableReader else { throw RestoreError(checkpointProblems().joined()) }
        if type(of: r).restoresFromAllSplits {
            for case let position? in state.operatorStates {
                var pr = StateReader(position)
                try r.restorePosition(from: &pr)
            }
            reader = r as! Reader
            return
        }
        guard state.oldParallelism == info.parallelism else {
            throw RestoreError("source '\(info.name)' was checkpointed at parallelism \(state.oldParallelism) and cannot be restored at \(info.parallelism): its splits depend on the parallelism (keep the source's parallelism, e.g. `parallelism: \(state.oldParallelism)` on the source, and rescale the operators after it)")
        }
        guard let position = state.operatorStates[info.subtask] else { return }
        var pr = StateReader(position)
        try r.restorePosition(from: &pr)
        reader = r as! Reader
    }

    override func notifyCheckpointComplete(_ id: Int64) throws {
        guard var r = reader as? any CheckpointableReader else { return }
        try r.checkpointComplete(id)
        reader = r as! Reader
    }
}
