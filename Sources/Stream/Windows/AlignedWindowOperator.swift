/// Tumbling and sliding windows. Every key shares the same window boundaries, so state is
/// kept per window ("bucket": key → accumulator) rather than per key with a timer each: a
/// record costs one bucket look-up (almost always among the last two) and one hash update,
/// and firing a window is a scan of its bucket — no per-key timer bookkeeping at all.
/// For snapshots, a bucket's keys are grouped by key group when written.
final class AlignedWindowOperator<K: StreamKey, T: Sendable, A: AggregateFunction, R: Sendable>: StreamOperator
where A.Input == T {
    final class Bucket {
        let window: TimeWindow
        var accumulators: [K: A.Accumulator] = [:]
        var fired = false
        init(window: TimeWindow) { self.window = window }
    }

    let output = Output<R>()
    private let keyOf: (T) -> K
    private let aggregate: A
    private let makeResult: (K, TimeWindow, A.Output) throws -> R
    private let settings: WindowSettings<T>
    private let size: Int64, slide: Int64, offset: Int64
    private let isEventTime: Bool
    /// Open windows, ordered by end.
    private(set) var buckets: [Bucket] = []

    init(info: OperatorInfo, runtime: OperatorRuntime, keyOf: @escaping (T) -> K, aggregate: A,
         settings: WindowSettings<T>, makeResult: @escaping (K, TimeWindow, A.Output) throws -> R) {
        self.keyOf = keyOf
        self.aggregate = aggregate
        self.makeResult = makeResult
        self.settings = settings
        switch settings.spec.kind {
        case .tumbling(let s, let o): (size, slide, offset) = (s, s, o)
        case .sliding(let s, let sl, let o): (size, slide, offset) = (s, sl, o)
        case .session: preconditionFailure("session windows use SessionWindowOperator")
        }
        isEventTime = settings.spec.domain == .eventTime
        super.init(info: info, inputs: 1, runtime: runtime)
        outputs = [output]
    }

    @inline(__always)
    func process(_ value: T, _ ts: Timestamp) throws {
        let time: Timestamp
        if isEventTime {
            guard ts != noTimestamp else { throw wrap(MissingTimestampError(), context: "record \(shortDescription(value))") }
            time = ts
        } else {
            time = processingClock.now()
        }
        let key = keyOf(value)
        var assigned = false
        var start = windowStart(time, slide: slide, offset: offset)
        while start > time - size {
            let window = TimeWindow(start: start, end: start + size)
            start -= slide
            if isEventTime && isWindowLate(window, lateness: settings.allowedLateness) { continue }
            assigned = true
            let bucket = bucket(for: window)
            aggregate.add(value, to: &bucket.accumulators[key, default: aggregate.makeAccumulator()])
            // Allowed lateness: a record for a window that already fired fires it again.
            if isEventTime && window.maxTimestamp <= currentWatermark {
                try emit(key, bucket.window, bucket.accumulators[key]!)
            }
        }
        if !assigned { try emitLate(value, timestamp: ts, tag: settings.lateTag) }
    }

    @inline(__always)
    private func bucket(for window: TimeWindow) -> Bucket {
        var i = buckets.count - 1
        while i >= 0 {
            let b = buckets[i]
            if b.window.end == window.end { return b }
            if b.window.end < window.end { break }
            i -= 1
        }
        let b = Bucket(window: window)
        buckets.insert(b, at: i + 1)
        return b
    }

    @inline(__always)
    private func emit(_ key: K, _ window: TimeWindow, _ acc: A.Accumulator) throws {
        let result: R
        do { result = try makeResult(key, window, aggregate.result(acc)) } catch {
            throw wrap(error, context: "key \(key), window \(window)")
        }
        try output.emit(result, timestamp: window.maxTimestamp)
    }

    private func fire(_ bucket: Bucket) throws {
        bucket.fired = true
        for (key, acc) in bucket.accumulators { try emit(key, bucket.window, acc) }
    }

    override func onWatermark(_ watermark: Timestamp) throws {
        guard isEventTime else { return }
        var purge = 0
        for b in buckets {
            guard b.window.maxTimestamp <= watermark else { break }
            if !b.fired { try fire(b) }
            if b.window.maxTimestamp &+ settings.allowedLateness <= watermark { purge += 1 }
        }
        // Buckets are ordered by end, so cleanable ones form a prefix.
        if purge > 0 { buckets.removeFirst(purge) }
    }

    override func nextProcessingTime() -> Timestamp? {
        isEventTime ? nil : buckets.first.map { $0.window.maxTimestamp }
    }

    override func onProcessingTime(_ now: Timestamp) throws {
        while let b = buckets.first, b.window.maxTimestamp <= now {
            try fire(b)
            buckets.removeFirst()
        }
    }

    override func onFinish() throws {
        // Processing-time windows still open at the end of a bounded input fire now, as in Flink.
        if !isEventTime { for b in buckets { try fire(b) }; buckets.removeAll() }
    }

    /// Number of (key, window) accumulators held.
    var stateSize: Int { buckets.reduce(0) { $0 + $1.accumulators.count } }
}
