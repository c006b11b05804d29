/// Tumbling and sliding windows. Every key shares the same window boundaries, so state is
/// kept per window ("bucket": key → accumulator) rather than per key with a timer each: a
/// record costs one bucket look-up (almost always among the last two) and one hash update,
/// and firing a window is a scan of its bucket — no per-key timer bookkeeping at all.
/// For snapshots, a bucket's keys are grouped by key group when written.
final class AlignedWindowOperator<K: StreamKey, T: Sendable, A: AggregateFunction, R: Sendable>: StreamOperator
where A.Input == T {
    /// A struct mutated in place through `buckets[i]`: no reference counting per record.
    struct Bucket {
        let window: TimeWindow
        var accumulators: [K: A.Accumulator] = [:]
        var fired = false
        init(window: TimeWindow, expectedKeys: Int, reusing table: [K: A.Accumulator]?) {
            self.window = window
            // A reused table was sized by an earlier window already; reserving here, while
            // the caller's reference is alive, would copy it.
            if let table { accumulators = table } else { accumulators.reserveCapacity(expectedKeys) }
        }
    }

    let output = Output<R>()
    private let keyOf: (T) -> K
    private let aggregate: A
    private let makeResult: (K, TimeWindow, A.Output) throws -> R
    private let settings: WindowSettings<T>
    private let size: Int64, slide: Int64, offset: Int64
    private let allowedLateness: Int64
    /// The bucket the previous record went to: most records go to the same one, and these
    /// scalars answer that without touching (and reference-counting) the bucket array.
    private var recentEnd: Timestamp = .min
    private var recentIndex = 0
    private let isEventTime: Bool
    /// Open windows, ordered by end.
    private(set) var buckets: [Bucket] = []
    private var lastBucketSize = 0
    /// A purged window's table, emptied, for the next new window: a table of thousands of keys
    /// is hundreds of KB, which malloc would hand back to the kernel and fault in again, page
    /// by page, for every window (8% of the window task's time at parallelism 2 on one
    /// thread per core).
    private var spareTable: [K: A.Accumulator]?
    /// `fire(_:)` as a closure made in `init` (specialised; see `SourceOperator.readBatch`):
    /// the overrides below are called through the class's vtable, i.e. unspecialised.
    private var fireBucket: ((Int) throws -> Void)!

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
        allowedLateness = settings.allowedLateness
        super.init(info: info, inputs: 1, runtime: runtime)
        outputs = [output]
        fireBucket = { [unowned(unsafe) self] i in try self.fire(i) }
    }

    @inline(__always)
    func process(_ value: T, _ ts: Timestamp) throws {
        let time = try windowTime(of: value, timestamp: ts, eventTime: isEventTime)
        let key = keyOf(value)
        // A local copy: the dictionary's `default:` autoclosure would otherwise capture
        // `self`, retaining and releasing it for every record.
        let aggregate = self.aggregate
        var assigned = false
        var start = windowStart(time, slide: slide, offset: offset)
        while start > time - size {
            let window = TimeWindow(start: start, end: start + size)
            start -= slide
            if isEventTime && isWindowLate(window, lateness: allowedLateness) { continue }
            assigned = true
            let b = bucketIndex(for: window)
            aggregate.add(value, to: &buckets[b].accumulators[key, default: aggregate.makeAccumulator()])
            // Allowed lateness: a record for a window that already fired fires it again.
            if isEventTime && window.maxTimestamp <= currentWatermark {
                try emit(key, window, buckets[b].accumulators[key]!)
            }
        }
        if !assigned { try emitLate(value, timestamp: ts, tag: settings.lateTag) }
    }

    /// The index of the window's bucket, created if new. Records arrive near the newest
    /// windows, so the search runs from the end and usually stops at once.
    @inline(__always)
    private func bucketIndex(for window: TimeWindow) -> Int {
        if window.end == recentEnd { return recentIndex }
        let i = findOrInsertBucket(for: window)
        recentEnd = window.end
        recentIndex = i
        return i
    }

    private func findOrInsertBucket(for window: TimeWindow) -> Int {
        var i = buckets.count - 1
        while i >= 0 {
            let end = buckets[i].window.end
            if end == window.end { return i }
            if end < window.end { break }
            i -= 1
        }
        // Size a new window like the last one: keys recur, and growing a table rehashes it.
        buckets.insert(Bucket(window: window, expectedKeys: lastBucketSize, reusing: spareTable.take()), at: i + 1)
        return i + 1  // the caller re-caches; an insert before the cached bucket moved it
    }

    @inline(__always)
    private func emit(_ key: K, _ window: TimeWindow, _ acc: A.Accumulator) throws {
        try emitWindowResult(key, window, acc, aggregate: aggregate, makeResult: makeResult, to: output)
    }

    private func fire(_ i: Int) throws {
        buckets[i].fired = true
        lastBucketSize = buckets[i].accumulators.count
        let window = buckets[i].window
        // Loaded once per window, not per key: see `emitWindowResult(to: push)`.
        let push = output.target.call, aggregate = self.aggregate, makeResult = self.makeResult
        for (key, acc) in buckets[i].accumulators {
            try emitWindowResult(key, window, acc, aggregate: aggregate, makeResult: makeResult, to: push)
        }
    }

    override func onWatermark(_ watermark: Timestamp) throws {
        guard isEventTime else { return }
        var purge = 0
        for i in buckets.indices {
            let maxTimestamp = buckets[i].window.maxTimestamp
            guard maxTimestamp <= watermark else { break }
            if !buckets[i].fired { try fireBucket(i) }
            if maxTimestamp &+ allowedLateness <= watermark { purge += 1 }
        }
        // Buckets are ordered by end, so cleanable ones form a prefix.
        if purge > 0 { removeBuckets(purge) }
    }

    override func nextProcessingTime() -> Timestamp? {
        isEventTime ? nil : buckets.first.map { $0.window.maxTimestamp }
    }

    override func onProcessingTime(_ now: Timestamp) throws {
        while let b = buckets.first, b.window.maxTimestamp <= now {
            try fireBucket(0)
            removeBuckets(1)
        }
    }

    override func onFinish() throws {
        // Processing-time windows still open at the end of a bounded input fire now, as in Flink.
        if !isEventTime { for i in buckets.indices { try fireBucket(i) }; removeBuckets(buckets.count) }
    }

    private func removeBuckets(_ n: Int) {
        guard n > 0 else { return }
        var table = buckets[n - 1].accumulators
        buckets.removeFirst(n)
        // Unique now unless a checkpoint still holds it (then this allocates an empty table).
        table.removeAll(keepingCapacity: true)
        spareTable = table
        recentEnd = .min  // indices moved
    }

    // MARK: checkpoints

    override func checkpointProblems() -> [String] {
        WindowStateCoders<K, A.Accumulator>.problems(operatorName: info.name)
    }

    /// Section "windows", per key group: the open windows with accumulators of that group —
    /// (start, end, fired, count, then key and accumulator pairs) each. The bucket array is
    /// copied now (copy on write) and split by key group once, on the first call.
    override func snapshotState(checkpointID: Int64) throws -> OperatorSnapshot? {
        let coders = try WindowStateCoders<K, A.Accumulator>.resolve(operatorName: info.name) { CheckpointFailure($0) }
        let keyCoder = coders.key, accCoder = coders.accumulator
        let copy = buckets
        let maxParallelism = info.maxParallelism
        let split = LazyValue { () -> [Int: [(bucket: Int, keys: [K])]] in
            var byGroup: [Int: [(bucket: Int, keys: [K])]] = [:]
            for (b, bucket) in copy.enumerated() {
                var keysByGroup: [Int: [K]] = [:]
                for key in bucket.accumulators.keys {
                    keysByGroup[KeyGroups.keyGroup(of: key, maxParallelism: maxParallelism), default: []].append(key)
                }
                for (g, keys) in keysByGroup { byGroup[g, default: []].append((b, keys)) }
            }
            return byGroup
        }
        return OperatorSnapshot(keyedSections: [KeyedSection(name: "windows") { group, w in
            let parts = split.value[group] ?? []
            w.writeVarint(parts.count)
            for (b, keys) in parts {
                let bucket = copy[b]
                w.write(bucket.window.start)
                w.write(bucket.window.end)
                bucket.fired.encode(to: &w)
                w.writeVarint(keys.count)
                for k in keys {
                    keyCoder.encode(k, &w)
                    accCoder.encode(bucket.accumulators[k]!, &w)
                }
            }
        }])
    }

    override func restoreState(_ state: RestoredOperatorState) throws {
        let coders = try WindowStateCoders<K, A.Accumulator>.resolve(operatorName: info.name) { RestoreError($0) }
        let keyCoder = coders.key, accCoder = coders.accumulator
        for (_, bytes) in state.keyedSections["windows"] ?? [] {
            var r = StateReader(bytes)
            for _ in 0..<(try r.readVarint()) {
                let window = TimeWindow(start: try r.read(), end: try r.read())
                let fired = try Bool.decode(from: &r)
                let b = findOrInsertBucket(for: window)
                buckets[b].fired = fired
                for _ in 0..<(try r.readVarint()) {
                    let key = try keyCoder.decode(&r)
                    buckets[b].accumulators[key] = try accCoder.decode(&r)
                }
            }
        }
        recentEnd = .min
    }

    /// Number of (key, window) accumulators held.
    var stateSize: Int { buckets.reduce(0) { $0 + $1.accumulators.count } }
}
