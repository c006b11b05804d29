/// Runs a whole job on the calling thread, step by step, with a hand-driven processing clock:
/// the deterministic driver behind the test harness (in the spirit of SwiftNIO's embedded
/// event loop). Inboxes are unbounded here, so nothing ever blocks.
public final class EmbeddedExecution {
    let tasks: [StreamTask]
    public let clock: ManualClock
    private let sourceBatchSize: Int
    private var opened = false
    let coordinator: CheckpointCoordinator?

    init(tasks: [StreamTask], clock: ManualClock, sourceBatchSize: Int, coordinator: CheckpointCoordinator?) {
        self.tasks = tasks
        self.clock = clock
        self.sourceBatchSize = sourceBatchSize
        self.coordinator = coordinator
    }

    /// Takes a checkpoint (savepoint if named) and processes until it completes: state
    /// files are written inline, so this is deterministic.
    @discardableResult
    public func triggerCheckpoint(savepoint: String? = nil) throws -> CompletedCheckpoint {
        guard let coordinator else { throw CheckpointAbortedError(id: 0, reason: "the job has no checkpointing configured") }
        let box = ResultBox()
        coordinator.trigger(savepoint: savepoint) { box.result = $0 }
        try runUntilIdle()
        guard let result = box.result else { throw CheckpointAbortedError(id: 0, reason: "did not complete (a task is blocked?)") }
        return try result.get()
    }

    /// Processes everything that can be processed now: sources read until they have nothing
    /// available, every task drains its inbox, repeatedly, until no task makes progress.
    public func runUntilIdle() throws {
        if !opened {
            for t in tasks { try t.open() }
            if coordinator != nil {
                let problems = tasks.flatMap { $0.checkpointProblems() }
                if !problems.isEmpty { throw CheckpointFailure(problems.joined(separator: "; ")) }
            }
            opened = true
        }
        var progress = true
        while progress {
            progress = false
            for task in tasks where !task.isFinished {
                receiving: while !task.isFinished {
                    switch task.inbox!.receive(deadlineNanos: 0) {
                    case .mail(let mail): try task.handle(mail)
                    case .element(let element, let channel): try task.handle(element, channel: channel)
                    case .timedOut, .closed: break receiving
                    }
                    progress = true
                }
                if task.source != nil && !task.sourceExhausted && !task.isFinished && !task.sourceHeldBack(orWake: nil) {
                    switch try task.emitSourceBatch(limit: sourceBatchSize) {
                    case .more, .finished: progress = true
                    case .nothingAvailable: break
                    }
                }
                try task.flushOutputs()
                if task.isFinished { try task.closeOutputs(); progress = true }
            }
        }
    }

    /// Sets processing time, fires due processing-time timers, and processes the consequences.
    public func advanceProcessingTime(to now: Timestamp) throws {
        clock.set(now)
        try runUntilIdle()
        for task in tasks where !task.isFinished {
            try task.fireProcessingTimers(now: now)
        }
        try runUntilIdle()
    }

    public var isFinished: Bool { tasks.allSatisfy(\.isFinished) }
    public var metrics: JobMetrics { JobMetrics.of(tasks) }
}

/// Where an inline checkpoint's result lands (the embedded driver is single-threaded).
private final class ResultBox: @unchecked Sendable {
    var result: Result<CompletedCheckpoint, any Error>?
}
