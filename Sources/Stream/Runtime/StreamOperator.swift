/// What an operator instance knows about where it runs.
public struct OperatorInfo: Sendable {
    public var name: String
    public var subtask: Int
    public var parallelism: Int
    public var maxParallelism: Int
    /// The key groups this subtask owns (meaningful for keyed operators).
    public var keyGroups: KeyGroupRange
    /// Identity in checkpoints, stable across runs of the same topology: "<node id>:<name>".
    public var uid: String
}

/// Forwards control events to an output, whatever its record type.
protocol OutputControl: AnyObject {
    func forwardWatermark(_ watermark: Timestamp) throws
    func forwardWatermarkStatus(idle: Bool) throws
    func forwardEndInput() throws
}
extension Output: OutputControl {}

/// The non-generic part of every operator: lifecycle, watermark bookkeeping over its inputs,
/// and processing-time timers. Record processing lives in the generic subclasses, reached
/// through specialised closures, never through this class.
public class StreamOperator: EventSink {
    public let info: OperatorInfo
    let inputCount: Int
    /// Main and side outputs, for forwarding watermarks and end of input.
    var outputs: [any OutputControl] = []
    /// Side outputs by tag name, wired by the planner (`Output<X>` of the tag's type).
    var sideOutputs: [String: AnyObject] = [:]
    let processingClock: any ProcessingClock
    let metrics: TaskMetrics
    let checkpointingEnabled: Bool

    private var inputWatermarks: [Timestamp]
    private var inputIdle: [Bool]
    private var inputEnded: [Bool]
    private var outputIdle = false
    public private(set) var currentWatermark: Timestamp = Watermarks.initial
    /// Operators that generate watermarks themselves pass on only the final one from upstream.
    var ignoresInputWatermarks = false

    init(info: OperatorInfo, inputs: Int, runtime: OperatorRuntime) {
        self.info = info
        self.inputCount = inputs
        self.processingClock = runtime.clock
        self.metrics = runtime.metrics
        self.checkpointingEnabled = runtime.checkpointing
        self.inputWatermarks = Array(repeating: Watermarks.initial, count: inputs)
        self.inputIdle = Array(repeating: false, count: inputs)
        self.inputEnded = Array(repeating: false, count: inputs)
    }

    // MARK: hooks for subclasses

    func open() throws {}
    /// Event time advanced to `watermark` (already combined over inputs). Fire timers here;
    /// the watermark is forwarded downstream after this returns.
    func onWatermark(_ watermark: Timestamp) throws {}
    /// All inputs ended (after the final watermark): emit what is left.
    func onFinish() throws {}
    /// The task finished processing one input batch (or one source batch).
    func onBatchEnd() throws {}
    /// The earliest processing-time timer, if any.
    func nextProcessingTime() -> Timestamp? { nil }
    func onProcessingTime(_ now: Timestamp) throws {}
    func close() {}

    // MARK: checkpoint hooks (see Checkpoint/README.md)

    /// Why this operator's state cannot be checkpointed (types without a coder), if it can't.
    /// Asked after `open`, when state handles exist, if the job checkpoints.
    func checkpointProblems() -> [String] { [] }
    /// The synchronous part of a snapshot, at a barrier: cheap copies, encoded later off the
    /// task thread. nil: no state.
    func snapshotState(checkpointID: Int64) throws -> OperatorSnapshot? { nil }
    /// Before `open`: the state this subtask takes over from a checkpoint.
    func restoreState(_ state: RestoredOperatorState) throws {}
    /// Checkpoint `id` is durable: make its effects visible (commit transactions, offsets).
    func notifyCheckpointComplete(_ id: Int64) throws {}
    /// Checkpoint `id` will never complete.
    func notifyCheckpointAborted(_ id: Int64) {}

    // MARK: EventSink

    public final func processWatermark(_ watermark: Timestamp, input: Int) throws {
        inputWatermarks[input] = watermark
        try advanceWatermark()
    }

    public final func processWatermarkStatus(idle: Bool, input: Int) throws {
        inputIdle[input] = idle
        let allIdle = (0..<inputCount).allSatisfy { inputIdle[$0] || inputEnded[$0] }
        if allIdle != outputIdle {
            outputIdle = allIdle
            for o in outputs { try o.forwardWatermarkStatus(idle: allIdle) }
        }
        if !allIdle { try advanceWatermark() }
    }

    public final func endInput(_ input: Int) throws {
        inputEnded[input] = true
        guard inputEnded.allSatisfy({ $0 }) else {
            try advanceWatermark()  // the ended input no longer holds the minimum back
            return
        }
        try onFinish()
        for o in outputs { try o.forwardEndInput() }
    }

    /// Watermark = minimum over inputs that are active (idle and ended inputs excluded).
    private func advanceWatermark() throws {
        var combined = Timestamp.max
        var anyActive = false
        for i in 0..<inputCount where !inputIdle[i] && !inputEnded[i] {
            anyActive = true
            combined = min(combined, inputWatermarks[i])
        }
        // All idle: hold event time where it is until some input becomes active again.
        if !anyActive { return }
        guard combined > currentWatermark else { return }
        if ignoresInputWatermarks && combined != Watermarks.endOfTime { return }
        currentWatermark = combined
        try onWatermark(combined)
        for o in outputs { try o.forwardWatermark(combined) }
    }

    /// Emits directly downstream (sources and operators that generate watermarks).
    final func emitWatermark(_ watermark: Timestamp) throws {
        guard watermark > currentWatermark else { return }
        currentWatermark = watermark
        // Each operator of a chain in turn: the last one's is the task's.
        metrics.watermark = watermark
        for o in outputs { try o.forwardWatermark(watermark) }
    }

    final func emitWatermarkStatus(idle: Bool) throws {
        guard idle != outputIdle else { return }
        outputIdle = idle
        for o in outputs { try o.forwardWatermarkStatus(idle: idle) }
    }

    /// The side output for `tag`, or nil when nothing consumes it.
    final func sideOutput<X>(_ tag: OutputTag<X>) -> Output<X>? {
        sideOutputs[tag.name].map { unsafeDowncast($0, to: Output<X>.self) }
    }

    final func wrap(_ error: any Error, context: @autoclosure () -> String) -> any Error {
        if error is UserFunctionError || error is JobCancelled { return error }
        return UserFunctionError(operatorName: info.name, subtask: info.subtask,
                                 parallelism: info.parallelism, context: context(), underlying: error)
    }
}

/// What the task lends its operators.
struct OperatorRuntime {
    let clock: any ProcessingClock
    let metrics: TaskMetrics
    /// The job takes checkpoints: transactional sinks then commit only on completion.
    var checkpointing = false
    /// Shared by the subtasks of a source: watermark alignment between its splits.
    var splitAlignment: SourceSplitAlignment?
}
