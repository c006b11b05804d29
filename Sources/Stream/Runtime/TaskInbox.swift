/// The input side of a task: one bounded FIFO per input channel (one channel per upstream
/// subtask per edge), a single lock, and the task thread as the only consumer.
///
/// A full channel blocks its producer: that is backpressure, and the time spent blocked is
/// returned to the producer so it can report it. Channels are separate (not one shared
/// queue) so that a channel can be paused while others are read — the basis of barrier
/// alignment for checkpoints.
public final class TaskInbox: @unchecked Sendable {
    /// Elements (batches and control events) per channel; `Int.max` for the embedded driver.
    public let capacityPerChannel: Int
    private let lock = ConditionLock()
    private var channels: [Ring]
    /// Drained batch buffers on their way back to each channel's producer (see `recycle`).
    private var recycled: [[any Sendable]]
    private var paused: [Bool]
    /// Coordinator messages, read before any channel.
    private var mail: [TaskMail] = []
    private var nextToRead = 0
    private var closed = false
    private var consumerWaiting = false
    private var producersWaiting = 0
    /// The most elements any channel held at once (the backpressure test checks the bound).
    private var highWaterMarks: [Int]

    private let wakeConsumerAt: Int
    private let wakeProducersAt: Int

    /// Shared threads (`ThreadingModel.threadPerCore`): the worker running the consumer, woken
    /// instead of signalling a thread waiting in `receive`; and per channel, the worker of a
    /// producer that found the channel full (`hasRoom`), woken once it has drained by half.
    var consumerWorker: WorkerParker?
    private var roomWaiters: [WorkerParker?]

    public init(channels count: Int, capacityPerChannel: Int) {
        precondition(capacityPerChannel > 0)
        self.capacityPerChannel = capacityPerChannel
        self.wakeConsumerAt = max(1, min(capacityPerChannel, 1 << 20) / 2)
        self.wakeProducersAt = max(0, min(capacityPerChannel, 1 << 20) / 2 - 1)
        self.channels = (0..<count).map { _ in Ring() }
        self.recycled = Array(repeating: [], count: count)
        self.paused = Array(repeating: false, count: count)
        self.highWaterMarks = Array(repeating: 0, count: count)
        self.roomWaiters = Array(repeating: nil, count: count)
    }

    public var channelCount: Int { channels.count }

    /// Appends to `channel`, waiting while it is full. Returns the nanoseconds spent waiting,
    /// or nil when the inbox was closed (the job is being cancelled). `urgent`: wake the
    /// consumer now (control events, partial batches flushed by an idle producer) rather than
    /// when a run of batches has queued up. `waitWhenFull: false` (a producer on a shared
    /// worker thread, which must never block it): append anyway; that producer checks
    /// `hasRoom` before each step, so a channel exceeds its capacity by at most one step's output.
    @discardableResult
    public func send(_ element: StreamElement, to channel: Int, urgent: Bool = true, waitWhenFull: Bool = true) -> UInt64? {
        lock.lock()
        defer { lock.unlock() }
        var blockedSince: UInt64 = 0
        while waitWhenFull && !closed && channels[channel].count >= capacityPerChannel {
            if blockedSince == 0 { blockedSince = monotonicNanos() }
            producersWaiting += 1
            lock.waitForRoom()
            producersWaiting -= 1
        }
        if closed { return nil }
        channels[channel].append(element)
        let queued = channels[channel].count
        if queued > highWaterMarks[channel] { highWaterMarks[channel] = queued }
        // Hysteresis: wake a sleeping consumer once there is a run of work for it (or for any
        // control event, or a lone partial batch flushed by an idle producer), not for every
        // batch. Waking per batch made the two threads ping-pong through the scheduler.
        if consumerWaiting && (queued >= wakeConsumerAt || urgent) { lock.signalData() }
        // A shared worker parks only when none of its tasks can move: the first element of an
        // empty channel must reach it (waking a busy worker costs two atomics).
        if let consumerWorker, queued >= wakeConsumerAt || urgent || queued == 1 { consumerWorker.wake() }
        return blockedSince == 0 ? 0 : monotonicNanos() - blockedSince
    }

    /// Delivers a coordinator message; it is received before any queued element.
    public func post(_ message: TaskMail) {
        lock.withLock {
            mail.append(message)
            lock.signalData()
        }
        consumerWorker?.wake()
    }

    /// Takes every message waiting, closed or not.
    func takeMail() -> [TaskMail] {
        lock.withLock {
            defer { mail.removeAll() }
            return mail
        }
    }

    /// Whether mail is waiting (a cheap check for source loops between batches).
    public var hasMail: Bool { lock.withLock { !mail.isEmpty } }

    var hasMailOrIsClosed: Bool { lock.withLock { !mail.isEmpty || closed } }

    public enum Received {
        case mail(TaskMail)
        case element(StreamElement, channel: Int)
        /// Nothing arrived before the deadline.
        case timedOut
        case closed
    }

    /// Takes the next element from any unpaused channel, round-robin for fairness.
    /// `deadlineNanos`: monotonic deadline; nil waits indefinitely; a past deadline polls.
    public func receive(deadlineNanos: UInt64?) -> Received {
        lock.lock()
        defer { lock.unlock() }
        while true {
            if closed { return .closed }
            if !mail.isEmpty { return .mail(mail.removeFirst()) }
            let n = channels.count
            for step in 0..<n {
                let c = (nextToRead + step) % n
                if paused[c] { continue }
                if let element = channels[c].popFirst() {
                    nextToRead = (c + 1) % n
                    // Likewise, let blocked producers go once the channel has drained by half.
                    if producersWaiting > 0 && channels[c].count <= wakeProducersAt { lock.broadcastRoom() }
                    if channels[c].count <= wakeProducersAt, let waiter = roomWaiters[c] {
                        roomWaiters[c] = nil
                        waiter.wake()
                    }
                    return .element(element, channel: c)
                }
            }
            if let deadline = deadlineNanos, monotonicNanos() >= deadline { return .timedOut }
            consumerWaiting = true
            lock.waitForData(deadlineNanos: deadlineNanos)
            consumerWaiting = false
        }
    }

    /// Whether `channel` has room; if not, `worker` is woken once it has drained by half.
    func hasRoom(channel: Int, orWake worker: WorkerParker) -> Bool {
        lock.withLock {
            if closed || channels[channel].count < capacityPerChannel { return true }
            roomWaiters[channel] = worker
            return false
        }
    }

    /// Hands a drained batch's buffer back for the channel's producer to refill: no allocation
    /// per batch, and the producer writes into memory it wrote before rather than memory the
    /// consumer freed (fewer cache lines crossing cores).
    public func recycle(_ buffer: any Sendable, channel: Int) {
        lock.withLock {
            if recycled[channel].count < 2 { recycled[channel].append(buffer) }
        }
    }

    /// A buffer recycled for `channel`, if any.
    public func reusableBuffer(channel: Int) -> (any Sendable)? {
        lock.withLock { recycled[channel].popLast() }
    }

    /// Stops (or resumes) reading a channel; its producer blocks once the channel is full.
    public func setPaused(_ isPaused: Bool, channel: Int) {
        lock.withLock { paused[channel] = isPaused }
    }

    /// Wakes everyone; sends fail and receives return `.closed` from now on.
    public func close() {
        lock.withLock {
            closed = true
            lock.broadcastAll()
        }
        consumerWorker?.wake()
        for case let waiter? in lock.withLock({ roomWaiters }) { waiter.wake() }
    }

    public var highWaterMark: [Int] { lock.withLock { highWaterMarks } }
    public var queuedElements: [Int] { lock.withLock { channels.map(\.count) } }
}

/// A growable FIFO ring of elements (one per channel).
private struct Ring {
    private var storage: [StreamElement?] = Array(repeating: nil, count: 4)
    private var head = 0
    private(set) var count = 0

    mutating func append(_ element: StreamElement) {
        if count == storage.count { grow() }
        storage[(head + count) & (storage.count - 1)] = element
        count += 1
    }

    mutating func popFirst() -> StreamElement? {
        guard count > 0 else { return nil }
        let element = storage[head]
        storage[head] = nil
        head = (head + 1) & (storage.count - 1)
        count -= 1
        return element
    }

    private mutating func grow() {
        var bigger = [StreamElement?](repeating: nil, count: storage.count * 2)
        for i in 0..<count { bigger[i] = storage[(head + i) & (storage.count - 1)] }
        storage = bigger
        head = 0
    }
}
