import Dispatch
import Foundation
import Logging
import Synchronization

/// Triggers checkpoints at the sources, collects the tasks' acknowledgements, completes a
/// checkpoint by writing its metadata, then tells every task (sources commit positions,
/// transactional sinks commit). One checkpoint at a time; a timeout aborts it and the job
/// goes on. Thread-safe: called from task threads, the I/O queue and the driver's ticks.
final class CheckpointCoordinator: @unchecked Sendable {
    /// What the coordinator needs of a task: where to post mail, and whether it is a source.
    struct TaskRef: Sendable {
        let inbox: TaskInbox
        let isSource: Bool
    }

    let config: CheckpointConfig
    let storage: CheckpointStorage
    private let jobName: String
    private let maxParallelism: Int
    private let tasks: [TaskRef]
    private let operators: [CheckpointMetadata.Operator]
    private let logger: Logger
    /// Encoding, compression and writing happen here, off the task threads; nil writes inline
    /// (the deterministic embedded driver).
    private let io: DispatchQueue?
    private let state: Mutex<State>

    private struct Pending {
        var id: Int64
        var savepointName: String?
        var final: Bool
        var directory: String
        var startedNanos: UInt64
        var files: [Int: CheckpointMetadata.File] = [:]
        var syncNanos: UInt64 = 0
        var asyncNanos: UInt64 = 0
        var waiters: [@Sendable (Result<CompletedCheckpoint, any Error>) -> Void] = []
    }

    private struct State {
        var nextID: Int64
        var pending: Pending?
        var lastTriggerNanos: UInt64
        var exhaustedSources = Set<Int>()
        var finalCompleted = false
        /// On-demand requests made while another checkpoint was running.
        var queued: [(savepoint: String?, waiter: @Sendable (Result<CompletedCheckpoint, any Error>) -> Void)] = []
        var stopped = false
        var completed: [CompletedCheckpoint] = []
        /// Checkpoints given up on (timed out, a task could not write, metadata not written).
        var aborted = 0
    }

    init(config: CheckpointConfig, jobName: String, maxParallelism: Int, tasks: [TaskRef],
         operators: [CheckpointMetadata.Operator], firstID: Int64, inlineIO: Bool, logger: Logger) {
        self.config = config
        self.storage = CheckpointStorage(root: config.directory)
        self.jobName = jobName
        self.maxParallelism = maxParallelism
        self.tasks = tasks
        self.operators = operators
        self.logger = logger
        self.io = inlineIO ? nil : DispatchQueue(label: "vigil.checkpoint.io")
        self.state = Mutex(State(nextID: firstID, lastTriggerNanos: monotonicNanos()))
    }

    /// Checkpoints completed so far (for metrics and benchmarks).
    var completed: [CompletedCheckpoint] { state.withLock { $0.completed } }
    var abortedCount: Int { state.withLock { $0.aborted } }

    // MARK: triggering

    /// Starts a checkpoint (or a savepoint, if named) now, or as soon as the running one ends.
    func trigger(savepoint: String? = nil, _ waiter: @escaping @Sendable (Result<CompletedCheckpoint, any Error>) -> Void) {
        if let name = savepoint, !Self.isValidSavepointName(name) {
            waiter(.failure(CheckpointAbortedError(id: 0, reason: "invalid savepoint name '\(name)': use letters, digits, '.', '_' and '-' (it names a directory)")))
            return
        }
        let started: Bool = state.withLock { s in
            if s.stopped || s.finalCompleted {
                waiter(.failure(CheckpointAbortedError(id: s.nextID, reason: "the job is not running")))
                return true
            }
            if s.pending != nil || s.exhaustedSources.count == sourceCount {
                s.queued.append((savepoint, waiter))
                return true
            }
            return start(&s, savepoint: savepoint, final: false, waiter: waiter)
        }
        _ = started
    }

    /// A savepoint name is a directory name under `savepoints/`: no separators, no "..".
    static func isValidSavepointName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && name.count <= 200
            && name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0) }
    }

    private var sourceCount: Int { tasks.reduce(0) { $0 + ($1.isSource ? 1 : 0) } }

    /// Periodic work from the driver: timeouts, the interval, queued requests. `now` may be
    /// older than times other threads recorded meanwhile (it is read before the lock):
    /// elapsed times are therefore computed with `nanos(since:until:)`, never a bare subtraction.
    func tick(now: UInt64 = monotonicNanos()) {
        var timedOut: Int64?
        state.withLock { s in
            guard !s.stopped else { return }
            if let p = s.pending {
                if nanos(since: p.startedNanos, until: now) >= UInt64(config.timeout.milliseconds) * 1_000_000 { timedOut = p.id }
                return
            }
            startNext(&s, now: now)
        }
        if let id = timedOut { abort(id, reason: "not complete after \(config.timeout)") }
    }

    /// With nothing running: a queued request, the final checkpoint, or a periodic one.
    private func startNext(_ s: inout State, now: UInt64) {
        if s.finalCompleted { return }
        if s.exhaustedSources.count == sourceCount {
            _ = start(&s, savepoint: nil, final: true, waiter: nil)
            return
        }
        if !s.queued.isEmpty {
            let request = s.queued.removeFirst()
            _ = start(&s, savepoint: request.savepoint, final: false, waiter: request.waiter)
            return
        }
        // The embedded driver (inline I/O, a hand-driven clock) checkpoints only on demand.
        if io != nil, let interval = config.interval, nanos(since: s.lastTriggerNanos, until: now) >= UInt64(interval.milliseconds) * 1_000_000 {
            _ = start(&s, savepoint: nil, final: false, waiter: nil)
        }
    }

    private func start(_ s: inout State, savepoint: String?, final: Bool,
                       waiter: (@Sendable (Result<CompletedCheckpoint, any Error>) -> Void)?) -> Bool {
        let id = s.nextID
        s.nextID += 1
        s.lastTriggerNanos = monotonicNanos()
        let directory = savepoint.map { storage.directory(forSavepoint: $0) } ?? storage.directory(forCheckpoint: id)
        do {
            if savepoint != nil, FileManager.default.fileExists(atPath: directory) {
                throw CheckpointAbortedError(id: id, reason: "savepoint directory \(directory) already exists")
            }
            try DurableFiles.makeDirectory(directory)
        } catch {
            logger.error("cannot start checkpoint", metadata: ["checkpoint": "\(id)", "error": "\(error)"])
            waiter?(.failure(error))
            return false
        }
        var pending = Pending(id: id, savepointName: savepoint, final: final, directory: directory, startedNanos: monotonicNanos())
        if let waiter { pending.waiters.append(waiter) }
        s.pending = pending
        for t in tasks where t.isSource { t.inbox.post(.triggerCheckpoint(id, final: final)) }
        return true
    }

    /// A source's input is exhausted; when all are, the final checkpoint is taken.
    func sourceExhausted(task: Int) {
        state.withLock { s in
            s.exhaustedSources.insert(task)
            if s.pending == nil && !s.stopped { startNext(&s, now: monotonicNanos()) }
        }
    }

    // MARK: acknowledgements

    /// The synchronous part of task `task`'s snapshot for checkpoint `id`: write it (off the
    /// task thread), then acknowledge.
    func submit(task: Int, id: Int64, entries: [TaskStateFile.Entry], syncNanos: UInt64) {
        guard let directory = state.withLock({ s in s.pending?.id == id ? s.pending!.directory : nil }) else { return }
        let write = UncheckedBox(entries)
        let work: @Sendable () -> Void = { [self] in
            do {
                let started = threadCPUNanos()
                let file = try storage.writeTaskFile(in: directory, name: "task-\(task).state", entries: write.value)
                acknowledge(task: task, id: id, file: file, syncNanos: syncNanos, asyncNanos: threadCPUNanos() - started)
            } catch {
                abort(id, reason: "task \(task) could not write its state: \(error)")
            }
        }
        if let io { io.async(execute: work) } else { work() }
    }

    private func acknowledge(task: Int, id: Int64, file: CheckpointMetadata.File, syncNanos: UInt64, asyncNanos: UInt64) {
        let done: Pending? = state.withLock { s in
            guard s.pending?.id == id else { return nil }
            s.pending!.files[task] = file
            s.pending!.syncNanos = max(s.pending!.syncNanos, syncNanos)
            s.pending!.asyncNanos += asyncNanos
            return s.pending!.files.count == tasks.count ? s.pending! : nil
        }
        guard let p = done else { return }
        // Every task acknowledged: the metadata, written last, makes the checkpoint complete.
        let files = (0..<tasks.count).map { p.files[$0]! }
        let metadata = CheckpointMetadata(
            checkpointID: p.id, kind: p.savepointName == nil ? "checkpoint" : "savepoint", savepointName: p.savepointName,
            job: jobName, createdAtMillis: wallClockMillis(), maxParallelism: maxParallelism, files: files, operators: operators)
        do {
            try storage.writeMetadata(metadata, in: p.directory)
        } catch {
            abort(id, reason: "cannot write its metadata: \(error)")
            return
        }
        let result = CompletedCheckpoint(id: p.id, isSavepoint: p.savepointName != nil, directory: p.directory,
                                         durationNanos: monotonicNanos() - p.startedNanos, syncNanos: p.syncNanos, asyncNanos: p.asyncNanos,
                                         bytes: files.reduce(0) { $0 + $1.bytes })
        state.withLock { s in
            s.pending = nil
            s.completed.append(result)
            if p.final { s.finalCompleted = true }
        }
        logger.debug("checkpoint complete", metadata: ["checkpoint": "\(result)"])
        // Non-source tasks first: a finished source closes its outputs on this notification,
        // and downstream tasks must have it queued before that end reaches them.
        for t in tasks where !t.isSource { t.inbox.post(.checkpointComplete(p.id)) }
        for t in tasks where t.isSource { t.inbox.post(.checkpointComplete(p.id)) }
        if p.savepointName == nil { storage.applyRetention(retained: config.retained, logger: logger) }
        for w in p.waiters { w(.success(result)) }
        state.withLock { s in if s.pending == nil && !s.stopped { startNext(&s, now: monotonicNanos()) } }
    }

    /// Gives up on checkpoint `id`: its files are deleted and the tasks told.
    func abort(_ id: Int64, reason: String) {
        let aborted: Pending? = state.withLock { s in
            guard s.pending?.id == id else { return nil }
            defer { s.pending = nil }
            s.aborted += 1
            return s.pending
        }
        guard let p = aborted else { return }
        logger.warning("checkpoint aborted", metadata: ["checkpoint": "\(id)", "reason": "\(reason)"])
        storage.discard(p.directory)
        for t in tasks { t.inbox.post(.checkpointAborted(id)) }
        for w in p.waiters { w(.failure(CheckpointAbortedError(id: id, reason: reason))) }
    }

    /// The job ended: fail whatever is still waiting.
    func stop() {
        let (pending, queued) = state.withLock { s -> (Pending?, [(savepoint: String?, waiter: @Sendable (Result<CompletedCheckpoint, any Error>) -> Void)]) in
            s.stopped = true
            defer { s.pending = nil; s.queued = [] }
            return (s.pending, s.queued)
        }
        if let p = pending {
            storage.discard(p.directory)
            for w in p.waiters { w(.failure(CheckpointAbortedError(id: p.id, reason: "the job stopped"))) }
        }
        for q in queued { q.waiter(.failure(CheckpointAbortedError(id: 0, reason: "the job stopped"))) }
    }

    /// Time from `start` to `end`, zero if `end` is earlier (read on another thread first).
    private func nanos(since start: UInt64, until end: UInt64) -> UInt64 { end >= start ? end - start : 0 }

    /// Waits for pending writes (tests and shutdown).
    func drainIO() { io?.sync {} }
}
