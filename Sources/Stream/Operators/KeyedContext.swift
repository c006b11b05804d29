/// What keyed user code sees: the current key and time, outputs, timers, and keyed state.
/// One instance per operator subtask, reused for every record (no allocation per record).
public final class KeyedContext<Key: StreamKey, Out: Sendable> {
    unowned let op: StreamOperator
    let output: Output<Out>
    let backend: KeyedStateBackend<Key>
    let timers: InternalTimers<Key, Int8>
    /// The current record's (or firing timer's) timestamp.
    public internal(set) var timestamp: Timestamp = noTimestamp

    init(op: StreamOperator, output: Output<Out>, backend: KeyedStateBackend<Key>, timers: InternalTimers<Key, Int8>) {
        self.op = op
        self.output = output
        self.backend = backend
        self.timers = timers
    }

    public var key: Key { backend.currentKey! }
    public var currentWatermark: Timestamp { op.currentWatermark }
    public var currentProcessingTime: Timestamp { op.processingClock.now() }

    @inline(__always) public func emit(_ value: Out) throws { try output.emit(value, timestamp: timestamp) }
    @inline(__always) public func emit(_ value: Out, timestamp: Timestamp) throws { try output.emit(value, timestamp: timestamp) }
    public func output<X: Sendable>(_ tag: OutputTag<X>, _ value: X) throws {
        try op.sideOutput(tag)?.emit(value, timestamp: timestamp)
    }

    // MARK: timers (for the current key; registering the same time twice fires once)

    public func registerEventTimeTimer(at t: Timestamp) { timers.registerEventTime(t, key: key, namespace: 0) }
    public func deleteEventTimeTimer(at t: Timestamp) { timers.deleteEventTime(t, key: key, namespace: 0) }
    public func registerProcessingTimeTimer(at t: Timestamp) { timers.registerProcessingTime(t, key: key, namespace: 0) }
    public func deleteProcessingTimeTimer(at t: Timestamp) { timers.deleteProcessingTime(t, key: key, namespace: 0) }

    // MARK: state (registered by name on first use; keep the handle, it is cheap to use)

    public func valueState<V>(_ name: String, _ type: V.Type = V.self, ttl: StateTTL? = nil) throws -> ValueState<Key, V> {
        try backend.register(name) { ValueState(name: name, backend: backend, ttl: ttl) }
    }
    public func listState<V>(_ name: String, _ type: V.Type = V.self, ttl: StateTTL? = nil) throws -> ListState<Key, V> {
        try backend.register(name) { ListState(name: name, backend: backend, ttl: ttl) }
    }
    public func mapState<MK: Hashable, MV>(_ name: String, _ types: (MK.Type, MV.Type) = (MK.self, MV.self),
                                          ttl: StateTTL? = nil) throws -> MapState<Key, MK, MV> {
        try backend.register(name) { MapState(name: name, backend: backend, ttl: ttl) }
    }
    public func reducingState<V>(_ name: String, ttl: StateTTL? = nil,
                                 reduce: @escaping (V, V) throws -> V) throws -> ReducingState<Key, V> {
        try backend.register(name) { ReducingState(name: name, backend: backend, ttl: ttl, reduce: reduce) }
    }
    public func aggregatingState<A: AggregateFunction>(_ name: String, _ aggregate: A,
                                                       ttl: StateTTL? = nil) throws -> AggregatingState<Key, A> {
        try backend.register(name) { AggregatingState(name: name, backend: backend, ttl: ttl, aggregate: aggregate) }
    }
}

/// Keyed processing with state and timers (Flink's KeyedProcessFunction).
public protocol KeyedProcessFunction<Key, Input, Output> {
    associatedtype Key: StreamKey
    associatedtype Input: Sendable
    associatedtype Output: Sendable
    /// Once per subtask before the first record: obtain state handles here.
    mutating func open(_ context: KeyedContext<Key, Output>) throws
    mutating func processElement(_ value: Input, _ context: KeyedContext<Key, Output>) throws
    mutating func onTimer(_ timestamp: Timestamp, domain: TimeDomain, _ context: KeyedContext<Key, Output>) throws
}
extension KeyedProcessFunction {
    public mutating func open(_ context: KeyedContext<Key, Output>) throws {}
    public mutating func onTimer(_ timestamp: Timestamp, domain: TimeDomain, _ context: KeyedContext<Key, Output>) throws {}
}

/// Keyed processing of two connected inputs sharing one key space and state.
public protocol KeyedCoProcessFunction<Key, Input1, Input2, Output> {
    associatedtype Key: StreamKey
    associatedtype Input1: Sendable
    associatedtype Input2: Sendable
    associatedtype Output: Sendable
    mutating func open(_ context: KeyedContext<Key, Output>) throws
    mutating func processElement1(_ value: Input1, _ context: KeyedContext<Key, Output>) throws
    mutating func processElement2(_ value: Input2, _ context: KeyedContext<Key, Output>) throws
    mutating func onTimer(_ timestamp: Timestamp, domain: TimeDomain, _ context: KeyedContext<Key, Output>) throws
}
extension KeyedCoProcessFunction {
    public mutating func open(_ context: KeyedContext<Key, Output>) throws {}
    public mutating func onTimer(_ timestamp: Timestamp, domain: TimeDomain, _ context: KeyedContext<Key, Output>) throws {}
}
