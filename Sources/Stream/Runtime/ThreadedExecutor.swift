import Foundation
import Logging
import Synchronization

/// A running job: one thread per task, or worker threads shared by tasks (`ThreadingModel`).
/// Finishes when every task finished (bounded sources), fails on the first task failure (every
/// other task is then cancelled), or is cancelled.
public final class JobHandle: @unchecked Sendable {
    public let name: String
    let tasks: [StreamTask]
    private let logger: Logger
    let sourceBatchSize: Int
    private let threading: ThreadingModel
    private var workers: [SharedWorker] = []
    private let state = Mutex(State())
    private let done = DispatchSemaphore(value: 0)
    private let cancelled = Atomic<Bool>(false)

    private struct State {
        var running = 0
        var failure: JobFailedError?
    }

    let coordinator: CheckpointCoordinator?

    init(name: String, tasks: [StreamTask], sourceBatchSize: Int, threading: ThreadingModel,
         coordinator: CheckpointCoordinator?, logger: Logger) {
        self.name = name
        self.tasks = tasks
        self.sourceBatchSize = sourceBatchSize
        self.threading = threading
        self.coordinator = coordinator
        self.logger = logger
    }

    func start() {
        state.withLock { $0.running = tasks.count }
        if let coordinator {
            // The coordinator's clock: periodic triggers and timeouts.
            let tick = UInt32(min(max((coordinator.config.interval?.milliseconds ?? 1000) / 4, 1), 50) * 1000)
            let thread = Thread { [self] in
                while !isDone { coordinator.tick(); usleep(tick) }
            }
            thread.name = "checkpoints"
            thread.start()
        }
        var ownThread = tasks
        if case .threadPerCore(let threads) = threading {
            ownThread = []
            let widest = tasks.map(\.head.info.parallelism).max() ?? 1
            let count = max(1, threads ?? min(ProcessInfo.processInfo.activeProcessorCount, widest))
            workers = (0..<count).map { SharedWorker(index: $0, job: self) }
            for task in tasks {
                if let source = task.source, !source.readsWithoutWaiting {
                    ownThread.append(task)
                } else {
                    workers[task.head.info.subtask % count].add(task)
                }
            }
            for worker in workers { worker.connect(to: workers) }
            for worker in workers where worker.hasTasks {
                let thread = Thread { [self] in withExtendedLifetime(self) { worker.run() } }
                thread.name = "worker-\(worker.index)"
                thread.stackSize = 4 << 20
                thread.start()
            }
        }
        for task in ownThread {
            let box = UncheckedBox(task)
            let thread = Thread { [self] in self.runTask(box.value) }
            thread.name = String(task.name.prefix(15))
            thread.stackSize = 4 << 20
            thread.start()
        }
    }

    /// Blocks until the job ends; throws `JobFailedError` if a task failed.
    public func wait() throws -> JobResult {
        done.wait()
        done.signal()  // let further waiters through
        if let failure = state.withLock({ $0.failure }) { throw failure }
        return JobResult(metrics: metrics)
    }

    /// Stops every task. `wait()` then returns (without error unless a task had failed).
    public func cancel() {
        cancelled.store(true, ordering: .relaxed)
        coordinator?.stop()
        for task in tasks { task.inbox?.close() }
        for worker in workers { worker.wake() }
    }

    var isCancelled: Bool { cancelled.load(ordering: .relaxed) }

    /// What SIGTERM should do: a checkpoint, then every task stops once it has acted on that
    /// checkpoint's completion (committed its transactions, its Kafka offsets), so a restart
    /// resumes exactly there. A task that stops closes its inbox, so a producer blocked on it
    /// stops too (it used to wait out the timeout: `testStopWithAFinalCheckpointAndRestore…`).
    /// A task still busy after `timeout` seconds (user code that does not return) is
    /// cancelled. `wait()` then returns.
    @discardableResult
    public func stopWithFinalCheckpoint(timeout: Double = 10) throws -> CompletedCheckpoint {
        let checkpoint = try triggerCheckpoint()
        coordinator?.stop()
        for task in tasks { task.inbox?.post(.stop) }
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(timeout * 1e9)
        while state.withLock({ $0.running > 0 }) && DispatchTime.now().uptimeNanoseconds < deadline { usleep(1000) }
        cancel()
        return checkpoint
    }

    public var metrics: JobMetrics { JobMetrics.of(tasks) }

    private var isDone: Bool { state.withLock { $0.running == 0 } || cancelled.load(ordering: .relaxed) }

    // MARK: checkpoints on demand

    /// Takes a checkpoint now (after the running one, if any) and waits until it is complete.
    public func triggerCheckpoint() throws -> CompletedCheckpoint { try waitFor(savepoint: nil) }

    /// Takes a savepoint: a named checkpoint in `<state dir>/savepoints/NAME`, never deleted
    /// automatically; restore from it with `CheckpointConfig.RestorePolicy.from(path)`.
    public func triggerSavepoint(name: String) throws -> CompletedCheckpoint { try waitFor(savepoint: name) }

    /// Checkpoints completed so far.
    public var completedCheckpoints: [CompletedCheckpoint] { coordinator?.completed ?? [] }

    /// Checkpoints this run gave up on (timed out, a task could not write its state, the
    /// metadata could not be written).
    public var abortedCheckpoints: Int { coordinator?.abortedCount ?? 0 }

    private func waitFor(savepoint: String?) throws -> CompletedCheckpoint {
        guard let coordinator else { throw CheckpointAbortedError(id: 0, reason: "the job has no checkpointing configured") }
        let done = DispatchSemaphore(value: 0)
        let result = Mutex<Result<CompletedCheckpoint, any Error>?>(nil)
        coordinator.trigger(savepoint: savepoint) { r in
            result.withLock { $0 = r }
            done.signal()
        }
        done.wait()
        return try result.withLock { $0! }.get()
    }

    private func runTask(_ task: StreamTask) {
        do {
            try task.open()
            if coordinator != nil {
                let problems = task.checkpointProblems()
                if !problems.isEmpty { throw CheckpointFailure(problems.joined(separator: "; ")) }
            }
            if task.source != nil { try runSource(task) } else { try runOperatorTask(task) }
            try task.closeOutputs()
            end(task, error: nil)
        } catch {
            end(task, error: error)
        }
    }

    private func end(_ task: StreamTask, error: (any Error)?) {
        let reported = task.end(after: error)
        task.metrics.cpuNanos = threadCPUNanos()  // before the job can be seen as done
        finished(task, error: reported)
    }

    private func runSource(_ task: StreamTask) throws {
        let inbox = task.inbox!
        while !task.isFinished {
            if cancelled.load(ordering: .relaxed) { throw JobCancelled() }
            while inbox.hasMail, case .mail(let mail) = inbox.receive(deadlineNanos: 0) { try task.handle(mail) }
            if task.sourceExhausted {
                // Input done: wait for the final checkpoint (its trigger, then its completion).
                switch inbox.receive(deadlineNanos: nil) {
                case .mail(let mail): try task.handle(mail)
                case .closed: throw JobCancelled()
                case .element, .timedOut: break
                }
                continue
            }
            if let t = task.nextProcessingTime(), t <= task.clock.now() {
                try task.fireProcessingTimers(now: task.clock.now())
            }
            if task.sourceHeldBack(orWake: nil) {
                try task.flushOutputs()
                usleep(200)  // until the slowest split catches up
                continue
            }
            if case .nothingAvailable = try task.emitSourceBatch(limit: sourceBatchSize) {
                try task.flushOutputs()
                usleep(1000)  // unbounded sources with their own blocking poll do not get here
            }
        }
    }

    private func runOperatorTask(_ task: StreamTask) throws {
        let inbox = task.inbox!
        while !task.isFinished {
            var deadline: UInt64?
            if let t = task.nextProcessingTime() {
                let now = task.clock.now()
                if t <= now {
                    try task.fireProcessingTimers(now: now)
                    continue
                }
                deadline = monotonicNanos() + UInt64(t - now) * 1_000_000
            }
            switch inbox.receive(deadlineNanos: 0) {
            case .mail(let mail):
                try task.handle(mail)
                continue
            case .element(let element, let channel):
                try task.handle(element, channel: channel)
                continue
            case .closed:
                throw JobCancelled()
            case .timedOut:
                break
            }
            // Nothing queued: hand partial batches downstream before sleeping, so that a
            // quiet stream still moves (latency) while a busy one ships full batches.
            try task.flushOutputs()
            switch inbox.receive(deadlineNanos: deadline) {
            case .mail(let mail): try task.handle(mail)
            case .element(let element, let channel): try task.handle(element, channel: channel)
            case .closed: throw JobCancelled()
            case .timedOut: continue
            }
        }
    }

    /// A task is done (its CPU time already recorded: the job's metrics may be read as soon as
    /// the last task is done).
    func finished(_ task: StreamTask, error: (any Error)?) {
        let isLast: Bool = state.withLock { s in
            if let error, s.failure == nil {
                s.failure = JobFailedError(jobName: name, taskName: task.name, cause: error)
            }
            s.running -= 1
            return s.running == 0
        }
        if let error {
            logger.error("task failed, cancelling the job", metadata: ["task": "\(task.name)", "error": "\(error)"])
            cancel()
        }
        if isLast {
            coordinator?.stop()
            coordinator?.drainIO()
            done.signal()
        }
    }
}

/// What a finished job reports.
public struct JobResult: Sendable {
    public var metrics: JobMetrics
}

extension JobMetrics {
    static func of(_ tasks: [StreamTask]) -> JobMetrics {
        JobMetrics(tasks: tasks.map { t in
            JobMetrics.Task(name: t.name, recordsIn: t.metrics.recordsIn, recordsOut: t.metrics.recordsOut,
                            backpressureNanos: t.metrics.backpressureNanos,
                            lateRecordsDropped: t.metrics.lateRecordsDropped, cpuNanos: t.metrics.cpuNanos, watermark: t.metrics.watermark,
                            channelHighWaterMarks: t.inbox?.highWaterMark ?? [],
                            channelCapacity: t.inbox?.capacityPerChannel ?? 0, stepsByOtherWorkers: t.metrics.stepsByOtherWorkers)
        })
    }
}

/// Moves a value into a thread's closure; the value is then used by that thread only.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// CPU time consumed by the calling thread.
func threadCPUNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
