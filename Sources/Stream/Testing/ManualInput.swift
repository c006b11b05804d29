import Synchronization

/// A source fed by hand: records with explicit timestamps, watermarks, and the end of input.
/// For the deterministic harness and for examples; one split (parallelism 1).
public final class ManualInput<T: Sendable>: Sendable {
    enum Event: Sendable {
        case record(T, Timestamp)
        case watermark(Timestamp)
        case end
    }
    /// Pending events from `head` on: taking a batch moves the head instead of shifting the
    /// array (a queue of a million records was shifted once per source batch).
    private struct Pending {
        var events: [Event] = []
        var head = 0
    }
    private let queue = Mutex(Pending())

    public init() {}

    public func send(_ value: T, at timestamp: Timestamp = noTimestamp) { queue.withLock { $0.events.append(.record(value, timestamp)) } }
    /// Many records under one lock (a feeder with a batch in hand).
    public func send(contentsOf records: some Collection<(T, Timestamp)>) {
        queue.withLock { q in
            q.events.reserveCapacity(q.events.count + records.count)
            for (value, timestamp) in records { q.events.append(.record(value, timestamp)) }
        }
    }
    public func watermark(_ t: Timestamp) { queue.withLock { $0.events.append(.watermark(t)) } }
    public func end() { queue.withLock { $0.events.append(.end) } }

    func take(max: Int) -> [Event] {
        queue.withLock { q in
            let n = Swift.min(max, q.events.count - q.head)
            let batch = Array(q.events[q.head..<q.head + n])
            q.head += n
            if q.head == q.events.count {
                q.events.removeAll(keepingCapacity: true)
                q.head = 0
            }
            return batch
        }
    }
}

struct ManualReader<T: Sendable>: SourceReader {
    let input: ManualInput<T>

    mutating func read(into context: SourceContext<T>, limit: Int) throws -> SourceReadResult {
        let events = input.take(max: limit)
        if events.isEmpty { return .nothingAvailable }
        for (i, event) in events.enumerated() {
            switch event {
            case .record(let v, let ts): try context.emit(v, timestamp: ts)
            case .watermark(let wm):
                // A watermark ends the batch so that it follows exactly the records before it.
                context.emitWatermark(wm)
                input.putBack(Array(events[(i + 1)...]))
                return .more
            case .end: return .finished
            }
        }
        return .more
    }
}

extension ManualInput {
    fileprivate func putBack(_ events: [Event]) {
        guard !events.isEmpty else { return }
        queue.withLock { $0.events.insert(contentsOf: events, at: $0.head) }
    }
}

extension StreamEnvironment {
    /// A source whose records the caller sends by hand (parallelism 1), with their timestamps
    /// and watermarks. With `idleTimeout`, the source is marked idle once it has had nothing
    /// to read for that long in processing time.
    public func manualSource<T: Sendable>(_ type: T.Type = T.self, name: String = "manual",
                                          idleTimeout: TimeSpan? = nil) -> (DataStream<T>, ManualInput<T>) {
        let input = ManualInput<T>()
        let stream = source(name: name, parallelism: 1, watermarks: nil, idleTimeout: idleTimeout) { _, _ in
            ManualReader(input: input)
        }
        return (stream, input)
    }
}

/// The records a manual source has not delivered yet stay with the caller, who decides what
/// a restored job is sent: its position is empty.
extension ManualReader: CheckpointableReader {
    func snapshotPosition(into writer: inout StateWriter) {}
    mutating func restorePosition(from reader: inout StateReader) throws {}
}
