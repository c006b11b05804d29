/// A timer: fires for `key` (and `namespace`, e.g. a window) when time reaches `timestamp`.
struct TimerEntry<K: Hashable, N: Hashable>: Hashable {
    var timestamp: Timestamp
    var key: K
    var namespace: N
}

/// The event-time and processing-time timers of a keyed operator: a min-heap by time plus a
/// set that makes registration idempotent (one timer per key, namespace and time, as in
/// Flink) and deletion O(1) (deleted entries are skipped when they reach the top).
final class InternalTimers<K: StreamKey, N: Hashable> {
    private var eventHeap = BinaryHeap<TimerEntry<K, N>>()
    private var eventSet = Set<TimerEntry<K, N>>()
    private var processingHeap = BinaryHeap<TimerEntry<K, N>>()
    private var processingSet = Set<TimerEntry<K, N>>()

    func registerEventTime(_ t: Timestamp, key: K, namespace: N) {
        let e = TimerEntry(timestamp: t, key: key, namespace: namespace)
        if eventSet.insert(e).inserted { eventHeap.push(e) }
    }
    func deleteEventTime(_ t: Timestamp, key: K, namespace: N) {
        eventSet.remove(TimerEntry(timestamp: t, key: key, namespace: namespace))
    }
    func registerProcessingTime(_ t: Timestamp, key: K, namespace: N) {
        let e = TimerEntry(timestamp: t, key: key, namespace: namespace)
        if processingSet.insert(e).inserted { processingHeap.push(e) }
    }
    func deleteProcessingTime(_ t: Timestamp, key: K, namespace: N) {
        processingSet.remove(TimerEntry(timestamp: t, key: key, namespace: namespace))
    }

    /// Fires, in time order, every event-time timer at or before `watermark` — including
    /// timers that firing registers for times already passed.
    func advanceWatermark(to watermark: Timestamp, fire: (TimerEntry<K, N>) throws -> Void) rethrows {
        while let top = eventHeap.top, top.timestamp <= watermark {
            eventHeap.pop()
            if eventSet.remove(top) != nil { try fire(top) }
        }
    }

    func advanceProcessingTime(to now: Timestamp, fire: (TimerEntry<K, N>) throws -> Void) rethrows {
        while let top = processingHeap.top, top.timestamp <= now {
            processingHeap.pop()
            if processingSet.remove(top) != nil { try fire(top) }
        }
    }

    var nextProcessingTime: Timestamp? {
        while let top = processingHeap.top, !processingSet.contains(top) { processingHeap.pop() }
        return processingHeap.top?.timestamp
    }

    var count: Int { eventSet.count + processingSet.count }

    // MARK: checkpoints

    static var coderProblem: String? {
        if StateCoder<K>.resolve() == nil { return notCheckpointable("a timer key", K.self) }
        if StateCoder<N>.resolve() == nil { return notCheckpointable("a timer namespace", N.self) }
        return nil
    }

    /// Per key group: event-time timers, then processing-time timers, each as a count and
    /// (time, key, namespace) triples. The sets are copied now and split by key group once,
    /// on the first call (off the task thread).
    func snapshotSection(maxParallelism: Int) throws -> KeyedSection {
        guard let keyCoder = StateCoder<K>.resolve(), let nsCoder = StateCoder<N>.resolve() else {
            throw CheckpointFailure(Self.coderProblem ?? "timers have no coder")
        }
        let event = eventSet, processing = processingSet
        let split = LazyValue { () -> [Int: (event: [TimerEntry<K, N>], processing: [TimerEntry<K, N>])] in
            var byGroup: [Int: (event: [TimerEntry<K, N>], processing: [TimerEntry<K, N>])] = [:]
            for e in event { byGroup[KeyGroups.keyGroup(of: e.key, maxParallelism: maxParallelism), default: ([], [])].event.append(e) }
            for e in processing { byGroup[KeyGroups.keyGroup(of: e.key, maxParallelism: maxParallelism), default: ([], [])].processing.append(e) }
            return byGroup
        }
        return KeyedSection(name: "timers") { group, w in
            let timers = split.value[group] ?? ([], [])
            for list in [timers.event, timers.processing] {
                w.writeVarint(list.count)
                for e in list { w.write(e.timestamp); keyCoder.encode(e.key, &w); nsCoder.encode(e.namespace, &w) }
            }
        }
    }

    func restore(_ blocks: [(group: Int, bytes: [UInt8])]) throws {
        guard let keyCoder = StateCoder<K>.resolve(), let nsCoder = StateCoder<N>.resolve() else {
            throw RestoreError(Self.coderProblem ?? "timers have no coder")
        }
        for (_, bytes) in blocks {
            var r = StateReader(bytes)
            for domain in 0..<2 {
                for _ in 0..<(try r.readVarint()) {
                    let t: Timestamp = try r.read()
                    let key = try keyCoder.decode(&r), ns = try nsCoder.decode(&r)
                    if domain == 0 { registerEventTime(t, key: key, namespace: ns) } else { registerProcessingTime(t, key: key, namespace: ns) }
                }
            }
        }
    }

    /// Every pending timer of key group `group` (for snapshots).
    func timers(inKeyGroup group: Int, maxParallelism: Int) -> (event: [TimerEntry<K, N>], processing: [TimerEntry<K, N>]) {
        let inGroup = { (e: TimerEntry<K, N>) in KeyGroups.keyGroup(of: e.key, maxParallelism: maxParallelism) == group }
        return (eventSet.filter(inGroup), processingSet.filter(inGroup))
    }
}

/// A binary min-heap ordered by timestamp.
struct BinaryHeap<E: Hashable> where E: TimestampOrdered {
    private var items: [E] = []
    var top: E? { items.first }
    var count: Int { items.count }

    mutating func push(_ e: E) {
        items.append(e)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard items[i].timestamp < items[parent].timestamp else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() {
        guard !items.isEmpty else { return }
        items.swapAt(0, items.count - 1)
        items.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var smallest = i
            if l < items.count && items[l].timestamp < items[smallest].timestamp { smallest = l }
            if r < items.count && items[r].timestamp < items[smallest].timestamp { smallest = r }
            if smallest == i { break }
            items.swapAt(i, smallest)
            i = smallest
        }
    }
}

protocol TimestampOrdered { var timestamp: Timestamp { get } }
extension TimerEntry: TimestampOrdered {}

/// A value computed on first use (by the one thread that encodes a snapshot).
final class LazyValue<T> {
    private var computed: T?
    private let make: () -> T
    init(_ make: @escaping () -> T) { self.make = make }
    var value: T {
        if let computed { return computed }
        let v = make()
        computed = v
        return v
    }
}
