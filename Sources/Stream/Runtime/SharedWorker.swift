import Synchronization

/// One thread running several tasks cooperatively (`ThreadingModel.threadPerCore`).
///
/// Each round gives every task one step: a source reads one batch; an operator task handles a
/// few queued elements. A step never blocks the thread: before it, the task's output channels
/// must have room (else the task waits to be woken by its consumer), and its sends never wait
/// (`RecordWriter.waitsWhenFull` false), so a channel holds at most its capacity plus one
/// step's output. A round in which no task could move parks the thread until a channel, a
/// mailbox or a timer has something for one of them.
///
/// Before it parks, a worker steps another worker's source if it can: key groups rarely split
/// the keys evenly, so one worker's downstream task has more to do; its channels fill, the other
/// worker's source waits for room, and that worker's own downstream task runs dry. Stepping the
/// busy worker's source lets the idle one take over part of its load (operator tasks, whose
/// state lives in their worker's cache, stay where they are).
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

    /// This worker's sources, which an idle peer may step; fixed before the threads start.
    private var helpable: [TaskRun] = []
    /// The other workers' sources and how to wake those workers (not the workers themselves:
    /// they would hold each other).
    private var peers: [(sources: [TaskRun], parker: WorkerParker)] = []

    private final class TaskRun {
        let task: StreamTask
        /// An unbounded source that had nothing: read again no earlier than this (monotonic).
        var retryAt: UInt64 = 0
        /// Since when a full output channel has kept the task from running (0: it has not).
        var blockedSince: UInt64 = 0
        /// Held by whichever thread steps the task: its worker, or a peer helping with a source.
        /// The other fields and the task itself are touched only while it is held.
        private let stepping = Atomic<Bool>(false)
        /// Its worker has opened it and not yet ended it: only then may peers step it.
        var opened = false
        var ended = false
        /// What a peer's step of it threw; its worker ends it with that.
        var errorInHelp: (any Error)?
        init(_ task: StreamTask) { self.task = task }

        func tryLock() -> Bool { stepping.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged }
        func unlock() { stepping.store(false, ordering: .releasing) }
    }

    init(index: Int, job: JobHandle) {
        self.index = index
        self.job = job
    }

    var hasTasks: Bool { !runs.isEmpty }

    /// Before `run`: the task is driven by this worker from now on.
    func add(_ task: StreamTask) {
        let run = TaskRun(task)
        runs.append(run)
        if task.source != nil { helpable.append(run) }
        task.inbox?.consumerWorker = parker
        for writer in task.writers { writer.waitsWhenFull = false }
    }

    func wake() { parker.wake() }

    /// Before the threads start: the workers that may help each other.
    func connect(to workers: [SharedWorker]) {
        peers = workers.filter { $0 !== self && !$0.helpable.isEmpty }.map { ($0.helpable, $0.parker) }
    }

    func run() {
        runs = runs.filter { run in
            // Peers may already be looking for work: they take a task only once it is open.
            while !run.tryLock() {}
            defer { run.unlock() }
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
            if let failure {
                run.ended = true
                end(run.task, error: failure)
            }
            run.opened = failure == nil
            return failure == nil
        }
        while !runs.isEmpty {
            let observed = parker.epoch
            var progressed = false
            var deadline: UInt64?
            runs = runs.filter { run in
                // A peer is stepping it: that is progress, and it is ours again in a moment.
                guard run.tryLock() else { progressed = true; return true }
                defer { run.unlock() }
                // nil: keep stepping the task; otherwise it ended (with an error, or none).
                let ended: Result<Void, any Error>? = measured(run.task) {
                    do {
                        if let error = run.errorInHelp { throw error }
                        if try step(run, wakes: parker, deadline: &deadline) { progressed = true }
                        guard run.task.isFinished else { return nil }
                        // Closing sends its events unchecked like a step's output: it waits
                        // for room, or a full channel would take a step's output beyond that.
                        guard outputsHaveRoom(run, wakes: parker) else { return nil }
                        try run.task.closeOutputs()
                        return .success(())
                    } catch {
                        return .failure(error)
                    }
                }
                guard let ended else { return true }
                run.ended = true
                // After `measured`: the job's metrics may be read once the last task ends.
                if case .failure(let error) = ended { end(run.task, error: error) } else { end(run.task, error: nil) }
                progressed = true
                return false
            }
            if progressed || runs.isEmpty || helpPeers(deadline: &deadline) { continue }
            // Nobody could move: hand partial batches on before sleeping (what a dedicated
            // thread does before it waits), so a quiet stream still flows.
            for run in runs where run.tryLock() {
                defer { run.unlock() }
                // A full channel has work queued downstream, and takes no more beyond a step.
                guard run.task.outputsHaveRoom(orWake: parker) else { continue }
                let sent = run.task.metrics.recordsOut
                do { try run.task.flushOutputs() } catch { continue }  // the next step meets the error
                if run.task.metrics.recordsOut != sent { progressed = true }
            }
            if !progressed { parker.park(observed: observed, deadlineNanos: deadline) }
        }
    }

    /// Steps one of the peers' sources that is free and can move; whether one did. Its worker
    /// is woken after: the source may have finished or failed, which only its worker handles.
    private func helpPeers(deadline: inout UInt64?) -> Bool {
        // A parked peer is idle too: its sources cannot move (or it would not have parked).
        for peer in peers where !peer.parker.isAsleep {
            for run in peer.sources where run.tryLock() {
                defer { run.unlock() }
                guard run.opened, !run.ended, run.errorInHelp == nil, !run.task.isFinished, !run.task.sourceExhausted else { continue }
                let moved = measured(run.task) {
                    // Wake-ups it asks for (room, alignment) go to its own worker, as if
                    // that worker had stepped it: help never takes work away from it.
                    do { return try step(run, wakes: peer.parker, deadline: &deadline) } catch { run.errorInHelp = error; return true }
                }
                if moved {
                    run.task.metrics.stepsByOtherWorkers += 1
                    peer.parker.wake()
                    return true
                }
            }
        }
        return false
    }

    /// One bounded piece of the task's work; whether anything happened. `wakes`: the worker to
    /// wake when a channel the task waits on has room again (the task's own).
    private func step(_ run: TaskRun, wakes: WorkerParker, deadline: inout UInt64?) throws -> Bool {
        let task = run.task
        if job.isCancelled { throw JobCancelled() }
        // A finished task only waits for room to close its channels (see `run`).
        if task.isFinished { return false }
        var progressed = try fireDueTimers(task, deadline: &deadline)
        if task.source != nil {
            progressed = try handleMail(task) || progressed
            // An exhausted source waits for its final checkpoint's mail.
            if task.isFinished || task.sourceExhausted { return progressed }
            guard outputsHaveRoom(run, wakes: wakes), !task.sourceHeldBack(orWake: wakes) else { return progressed }
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
            guard outputsHaveRoom(run, wakes: wakes) else { break }
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
    private func outputsHaveRoom(_ run: TaskRun, wakes: WorkerParker) -> Bool {
        guard run.task.outputsHaveRoom(orWake: wakes) else {
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
        job.finished(task, error: task.end(after: error))
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
