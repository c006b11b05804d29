/// One thread running several tasks cooperatively (`ThreadingModel.threadPerCore`).
///
/// Each round gives every task one step: a source reads one batch; an operator task handles a
/// few queued elements. A step never blocks the thread: before it, the task's output channels
/// must have room (else the task waits to be woken by its consumer), and its sends never wait
/// (`RecordWriter.waitsWhenFull` false), so a channel holds at most its capacity plus one
/// step's output. A round in which no task could move parks the thread until a channel, a
/// mailbox or a timer has something for one of them.
final class SharedWorker: @unchecked Sendable {
    let index: Int
    /// The worker's thread keeps the job alive while `run` runs (see `JobHandle.start`);
    /// `unowned(unsafe)`: a checked reference would count a retain at every step.
    private unowned(unsafe) let job: JobHandle
    private let parker = WorkerParker()
    private var runs: [TaskRun] = []
    /// Input elements an operator task handles per step: enough to amortise the step, few
    /// enough that its neighbours on this thread keep moving.
    private let elementsPerStep = 8

    private final class TaskRun {
        let task: StreamTask
        /// An unbounded source that had nothing: read again no earlier than this (monotonic).
        var retryAt: UInt64 = 0
        /// Since when a full output channel has kept the task from running (0: it has not).
        var blockedSince: UInt64 = 0
        init(_ task: StreamTask) { self.task = task }
    }

    init(index: Int, job: JobHandle) {
        self.index = index
        self.job = job
    }

    var hasTasks: Bool { !runs.isEmpty }

    /// Before `run`: the task is driven by this worker from now on.
    func add(_ task: StreamTask) {
        runs.append(TaskRun(task))
        task.inbox?.consumerWorker = parker
        for writer in task.writers { writer.waitsWhenFull = false }
    }

    func wake() { parker.wake() }

    func run() {
        runs = runs.filter { run in
            let failure: (any Error)? = measured(run.task) {
                do {
                    try run.task.open()
                    if job.coordinator != nil {
                        let problems = run.task.checkpointProblems()
                        if !problems.isEmpty { throw CheckpointFailure(problems.joined(separator: "; ")) }
                    }
                    return nil
                } catch {
                    return error
                }
            }
            if let failure { end(run.task, error: failure) }
            return failure == nil
        }
        while !runs.isEmpty {
            let observed = parker.epoch
            var progressed = false
            var deadline: UInt64?
            runs = runs.filter { run in
                // nil: keep stepping the task; otherwise it ended (with an error, or none).
                let ended: Result<Void, any Error>? = measured(run.task) {
                    do {
                        if try step(run, deadline: &deadline) { progressed = true }
                        guard run.task.isFinished else { return nil }
                        try run.task.closeOutputs()
                        return .success(())
                    } catch {
                        return .failure(error)
                    }
                }
                guard let ended else { return true }
                // After `measured`: the job's metrics may be read once the last task ends.
                if case .failure(let error) = ended { end(run.task, error: error) } else { end(run.task, error: nil) }
                progressed = true
                return false
            }
            if progressed || runs.isEmpty { continue }
            // Nobody could move: hand partial batches on before sleeping (what a dedicated
            // thread does before it waits), so a quiet stream still flows.
            for run in runs {
                let sent = run.task.metrics.recordsOut
                do { try run.task.flushOutputs() } catch { continue }  // the next step meets the error
                if run.task.metrics.recordsOut != sent { progressed = true }
            }
            if !progressed { parker.park(observed: observed, deadlineNanos: deadline) }
        }
    }

    /// One bounded piece of the task's work; whether anything happened.
    private func step(_ run: TaskRun, deadline: inout UInt64?) throws -> Bool {
        let task = run.task
        if job.isCancelled { throw JobCancelled() }
        var progressed = try fireDueTimers(task, deadline: &deadline)
        if task.source != nil {
            progressed = try handleMail(task) || progressed
            // An exhausted source waits for its final checkpoint's mail.
            if task.isFinished || task.sourceExhausted { return progressed }
            guard outputsHaveRoom(run), !task.sourceHeldBack(orWake: parker) else { return progressed }
            let now = monotonicNanos()
            if run.retryAt > now {
                deadline = min(deadline ?? .max, run.retryAt)
                return progressed
            }
            if case .nothingAvailable = try task.emitSourceBatch(limit: job.sourceBatchSize) {
                try task.flushOutputs()
                run.retryAt = now + 1_000_000
                deadline = min(deadline ?? .max, run.retryAt)
                return progressed
            }
            return true
        }
        guard let inbox = task.inbox else { return progressed }
        for _ in 0..<elementsPerStep where !task.isFinished {
            guard outputsHaveRoom(run) else { break }
            switch inbox.receive(deadlineNanos: 0) {
            case .mail(let mail): try task.handle(mail)
            case .element(let element, let channel): try task.handle(element, channel: channel)
            case .closed: throw JobCancelled()
            case .timedOut:
                // Caught up: hand partial batches on, as a task on its own thread does
                // before it waits (a quiet stream still moves).
                try task.flushOutputs()
                return progressed
            }
            progressed = true
        }
        return progressed
    }

    /// Whether the task's outputs can take more; the time they could not is the task's
    /// backpressure (what a dedicated thread spends blocked in a send).
    private func outputsHaveRoom(_ run: TaskRun) -> Bool {
        guard run.task.outputsHaveRoom(orWake: parker) else {
            if run.blockedSince == 0 { run.blockedSince = monotonicNanos() }
            return false
        }
        if run.blockedSince != 0 {
            run.task.metrics.backpressureNanos += monotonicNanos() - run.blockedSince
            run.blockedSince = 0
        }
        return true
    }

    private func handleMail(_ task: StreamTask) throws -> Bool {
        guard let inbox = task.inbox, inbox.hasMailOrIsClosed else { return false }
        var handled = false
        while true {
            switch inbox.receive(deadlineNanos: 0) {
            case .mail(let mail): try task.handle(mail); handled = true
            case .closed: throw JobCancelled()
            case .element, .timedOut: return handled
            }
        }
    }

    private func fireDueTimers(_ task: StreamTask, deadline: inout UInt64?) throws -> Bool {
        guard let t = task.nextProcessingTime() else { return false }
        let now = task.clock.now()
        if t <= now {
            try task.fireProcessingTimers(now: now)
            return true
        }
        deadline = min(deadline ?? .max, monotonicNanos() + UInt64(t - now) * 1_000_000)
        return false
    }

    private func end(_ task: StreamTask, error: (any Error)?) {
        task.close()
        job.finished(task, error: error is JobCancelled ? nil : error)
    }

    /// Runs `body`, adding the time it took to the task's CPU time. Wall time, not the thread's
    /// CPU clock: that clock is a system call (~0.5 us here, 1-2 ns per record at two per
    /// step), the wall clock is not; they differ only while the kernel runs something else.
    private func measured<R>(_ task: StreamTask, _ body: () -> R) -> R {
        let before = monotonicNanos()
        let result = body()
        task.metrics.cpuNanos += monotonicNanos() - before
        return result
    }
}
