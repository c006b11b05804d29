/// Runs a whole job on the calling thread, step by step, with a hand-driven processing clock:
/// the deterministic driver behind the test harness (in the spirit of SwiftNIO's embedded
/// event loop). Inboxes are unbounded here, so nothing ever blocks.
public final class EmbeddedExecution {
    let tasks: [StreamTask]
    public let clock: ManualClock
    private let sourceBatchSize: Int
    private var opened = false

    init(tasks: [StreamTask], clock: ManualClock, sourceBatchSize: Int) {
        self.tasks = tasks
        self.clock = clock
        self.sourceBatchSize = sourceBatchSize
    }

    /// Processes everything that can be processed now: sources read until they have nothing
    /// available, every task drains its inbox, repeatedly, until no task makes progress.
    public func runUntilIdle() throws {
        if !opened {
            for t in tasks { try t.open() }
            opened = true
        }
        var progress = true
        while progress {
            progress = false
            for task in tasks where !task.isFinished {
                if task.source != nil {
                    switch try task.emitSourceBatch(limit: sourceBatchSize) {
                    case .more, .finished: progress = true
                    case .nothingAvailable: break
                    }
                } else {
                    while case .element(let element, let channel) = task.inbox!.receive(deadlineNanos: 0) {
                        try task.handle(element, channel: channel)
                        progress = true
                    }
                }
                try task.flushOutputs()
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
