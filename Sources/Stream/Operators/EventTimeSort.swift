/// A record and the event time it carries, as buffered state.
public struct TimedRecord<T: Sendable>: Sendable {
    public var timestamp: Timestamp
    public var value: T
}

extension TimedRecord: StateCodable where T: StateCodable {
    public func encode(to w: inout StateWriter) { timestamp.encode(to: &w); value.encode(to: &w) }
    public static func decode(from r: inout StateReader) throws -> TimedRecord {
        TimedRecord(timestamp: try .decode(from: &r), value: try .decode(from: &r))
    }
}

/// Holds each key's records until the watermark passes their time, then emits them in time
/// order (records of equal time in arrival order). An order-sensitive operator after it (a
/// template miner, anything that closes windows as records arrive) then sees the same sequence
/// however its input's partitions interleaved: a live run reading as records are written, or
/// a replay whose consumer runs one partition far ahead of another. Costs the out-of-orderness
/// bound in latency; the buffer is in checkpoints.
public struct EventTimeSortFunction<K: StreamKey, T: StateCodable & Sendable>: KeyedProcessFunction, @unchecked Sendable {
    // @unchecked: the state handle is made in `open`, per subtask, and used by its thread only.
    public typealias Key = K
    public typealias Input = T
    public typealias Output = T

    /// Timers are rounded up to this many ms: one per step rather than one per distinct time.
    let granularity: Int64
    private var buffer: ValueState<K, [TimedRecord<T>]>!

    public init(granularity: Int64 = 10) { self.granularity = max(1, granularity) }

    public mutating func open(_ context: KeyedContext<K, T>) throws {
        buffer = try context.valueState("event-time-sort", [TimedRecord<T>].self)
    }

    public mutating func processElement(_ value: T, _ context: KeyedContext<K, T>) throws {
        let t = context.timestamp
        guard t != noTimestamp else { throw MissingEventTimeError() }
        // Kept sorted: records mostly arrive in order, so the insertion point is near the end.
        buffer.mutate(default: { [] }) { list in
            var i = list.count
            while i > 0 && list[i - 1].timestamp > t { i -= 1 }
            list.insert(TimedRecord(timestamp: t, value: value), at: i)
        }
        let due = t.isMultiple(of: granularity) ? t : (t / granularity + (t >= 0 ? 1 : 0)) * granularity
        context.registerEventTimeTimer(at: due)
    }

    public mutating func onTimer(_ timestamp: Timestamp, domain: TimeDomain, _ context: KeyedContext<K, T>) throws {
        let ready: ArraySlice<TimedRecord<T>> = buffer.mutate(default: { [] }) { list in
            let n = list.firstIndex { $0.timestamp > timestamp } ?? list.count
            defer { list.removeFirst(n) }
            return list[..<n]
        }
        for r in ready { try context.emit(r.value, timestamp: r.timestamp) }
    }
}

extension KeyedStream where T: StateCodable {
    /// Each key's records in event-time order, once the watermark has passed them (see
    /// `EventTimeSortFunction`).
    public func sortedByEventTime(name: String = "sort-by-event-time", parallelism: Int? = nil) -> DataStream<T> {
        process(name: name, parallelism: parallelism, EventTimeSortFunction<K, T>())
    }
}

struct MissingEventTimeError: Error, CustomStringConvertible {
    var description: String { "sorting by event time needs records with timestamps: assign timestamps and watermarks before" }
}
