import Synchronization

/// Where a shared worker thread sleeps when none of its tasks can move, and what wakes it:
/// data or mail for one of its tasks, room in a channel one of them writes to, the job's end.
///
/// A worker reads `epoch` before a round over its tasks and parks only if no wake-up came
/// since (the wake-up may have made a task it already passed runnable). Wakers pay an atomic
/// increment and load; the lock and the system call only when the worker is asleep.
final class WorkerParker: @unchecked Sendable {
    private let epochCounter = Atomic<Int>(0)
    private let asleep = Atomic<Bool>(false)
    private let lock = ConditionLock()

    var epoch: Int { epochCounter.load(ordering: .sequentiallyConsistent) }

    /// Whether the worker is parked (a hint: it may wake at any moment).
    var isAsleep: Bool { asleep.load(ordering: .relaxed) }

    func wake() {
        epochCounter.add(1, ordering: .sequentiallyConsistent)
        // Dekker with `park`: either it sees the new epoch, or this sees it asleep.
        if asleep.load(ordering: .sequentiallyConsistent) {
            lock.withLock { lock.signalData() }
        }
    }

    /// Sleeps until a wake-up after `observed` (returns at once if one came already) or until
    /// `deadlineNanos` (monotonic; nil: no limit).
    func park(observed: Int, deadlineNanos: UInt64?) {
        lock.lock()
        defer { lock.unlock() }
        asleep.store(true, ordering: .sequentiallyConsistent)
        if epochCounter.load(ordering: .sequentiallyConsistent) == observed {
            lock.waitForData(deadlineNanos: deadlineNanos)
        }
        asleep.store(false, ordering: .sequentiallyConsistent)
    }
}
