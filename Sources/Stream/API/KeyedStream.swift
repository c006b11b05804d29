/// A stream partitioned by key (`DataStream.keyBy`).
public struct KeyedStream<K: StreamKey, T: Sendable>: @unchecked Sendable {
    let stream: DataStream<T>
    let keyOf: @Sendable (T) -> K

    func keyedEdges(input: Int = 0) -> [LogicalEdge] {
        let keyOf = self.keyOf
        return stream.edges(.keyGroups, input: input, keyGroupSelector: KeyGroupSelector<T> { keyOf($0).stableHash })
    }

    func add<U>(_ name: String, parallelism: Int?,
                factory: @escaping @Sendable (OperatorBuildContext) throws -> OperatorInstance) -> DataStream<U> {
        let env = stream.environment
        return DataStream<U>(env, env.addNode(name: name, parallelism: parallelism, inputs: keyedEdges(), factory: factory))
    }

    /// Per-key processing with state and timers.
    public func process<F: KeyedProcessFunction>(name: String = "process", parallelism: Int? = nil,
                                                 _ function: F) -> DataStream<F.Output>
    where F.Key == K, F.Input == T, F: Sendable {
        let keyOf = self.keyOf
        return add(name, parallelism: parallelism) { ctx in
            let op = KeyedProcessOperator(info: ctx.info, runtime: ctx.runtime, keyOf: keyOf, function: function)
            return OperatorInstance(op: op, inputs: [.of(Push(op.process))], mainOutput: .of(op.output))
        }
    }

    /// Per-key processing as a closure; state comes from the context by name
    /// (`try ctx.valueState("count", Int.self)`), timers fire nothing unless `onTimer` is given.
    public func process<U: Sendable>(
        name: String = "process", parallelism: Int? = nil,
        onTimer: (@Sendable (Timestamp, TimeDomain, KeyedContext<K, U>) throws -> Void)? = nil,
        _ body: @escaping @Sendable (T, KeyedContext<K, U>) throws -> Void
    ) -> DataStream<U> {
        process(name: name, parallelism: parallelism, ClosureKeyedProcessFunction(body: body, timer: onTimer))
    }

    /// Rolling reduce: emits the key's updated value for every record.
    public func reduce(name: String = "reduce", parallelism: Int? = nil,
                       _ reduce: @escaping @Sendable (T, T) throws -> T) -> DataStream<T> {
        let keyOf = self.keyOf
        return add(name, parallelism: parallelism) { ctx in
            let op = KeyedReduceOperator(info: ctx.info, runtime: ctx.runtime, keyOf: keyOf, reduce: reduce)
            return OperatorInstance(op: op, inputs: [.of(Push(op.process))], mainOutput: .of(op.output))
        }
    }

    /// Groups each key's records into windows.
    public func window(_ spec: WindowSpec) -> WindowedStream<K, T> {
        WindowedStream(keyed: self, spec: spec)
    }
}

struct ClosureKeyedProcessFunction<K: StreamKey, T: Sendable, U: Sendable>: KeyedProcessFunction, Sendable {
    let body: @Sendable (T, KeyedContext<K, U>) throws -> Void
    let timer: (@Sendable (Timestamp, TimeDomain, KeyedContext<K, U>) throws -> Void)?
    func processElement(_ value: T, _ context: KeyedContext<K, U>) throws { try body(value, context) }
    func onTimer(_ timestamp: Timestamp, domain: TimeDomain, _ context: KeyedContext<K, U>) throws {
        try timer?(timestamp, domain, context)
    }
}

/// A keyed stream cut into windows: finish it with `aggregate`, `reduce` or `process`.
public struct WindowedStream<K: StreamKey, T: Sendable>: @unchecked Sendable {
    let keyed: KeyedStream<K, T>
    var spec: WindowSpec
    var lateness: TimeSpan = .zero
    var lateTag: OutputTag<T>?

    /// Keeps windows for `lateness` after they fired; later records update and re-fire them.
    public func allowedLateness(_ lateness: TimeSpan) -> WindowedStream {
        var copy = self
        copy.lateness = lateness
        return copy
    }

    /// Sends records too late for any window to side output `tag` (read it with
    /// `sideOutput(tag)` on the window's result stream). Without it they are dropped and
    /// counted in the task's `lateRecordsDropped` metric, with a warning logged.
    public func sideOutputLateData(_ tag: OutputTag<T>) -> WindowedStream {
        var copy = self
        copy.lateTag = tag
        return copy
    }

    /// Incremental aggregation; `result` shapes each (key, window, aggregate) into a record.
    public func aggregate<A: AggregateFunction, R: Sendable>(
        name: String = "window", parallelism: Int? = nil, _ aggregate: A,
        result: @escaping @Sendable (K, TimeWindow, A.Output) throws -> R
    ) -> DataStream<R> where A.Input == T {
        let keyOf = keyed.keyOf
        let settings = WindowSettings(spec: spec, allowedLateness: lateness.milliseconds, lateTag: lateTag)
        let spec = self.spec
        if case .processingTime = spec.domain, lateness > .zero {
            keyed.stream.environment.logger.warning("allowed lateness has no effect on processing-time windows", metadata: ["operator": "\(name)"])
        }
        return keyed.add(name, parallelism: parallelism) { ctx in
            try spec.validate()
            if case .session = spec.kind {
                let op = SessionWindowOperator(info: ctx.info, runtime: ctx.runtime, keyOf: keyOf, aggregate: aggregate,
                                               settings: settings, makeResult: result)
                return OperatorInstance(op: op, inputs: [.of(Push(op.process))], mainOutput: .of(op.output))
            }
            let op = AlignedWindowOperator(info: ctx.info, runtime: ctx.runtime, keyOf: keyOf, aggregate: aggregate,
                                           settings: settings, makeResult: result)
            return OperatorInstance(op: op, inputs: [.of(Push(op.process))], mainOutput: .of(op.output))
        }
    }

    public func aggregate<A: AggregateFunction>(name: String = "window", parallelism: Int? = nil,
                                                _ aggregate: A) -> DataStream<WindowResult<K, A.Output>>
    where A.Input == T, A.Output: Sendable {
        self.aggregate(name: name, parallelism: parallelism, aggregate) { WindowResult(key: $0, window: $1, value: $2) }
    }

    public func reduce(name: String = "window", parallelism: Int? = nil,
                       _ reduce: @escaping @Sendable (T, T) -> T) -> DataStream<WindowResult<K, T>> {
        aggregate(name: name, parallelism: parallelism, ReduceAggregate(reduce))
    }

    /// A full-window function: sees all of a window's records at once (they are buffered, so
    /// prefer `aggregate` when an incremental form exists).
    public func process<R: Sendable>(name: String = "window", parallelism: Int? = nil,
                                     _ function: @escaping @Sendable (K, TimeWindow, [T]) throws -> R) -> DataStream<R> {
        aggregate(name: name, parallelism: parallelism, CollectAggregate<T>(), result: function)
    }
}

/// Two streams of different types, for a two-input operator.
public struct ConnectedStreams<A: Sendable, B: Sendable>: @unchecked Sendable {
    let first: DataStream<A>
    let second: DataStream<B>

    /// Each record of either input may emit any number of records of one output type.
    public func process<U: Sendable>(name: String = "co-process", parallelism: Int? = nil,
                                     first onFirst: @escaping @Sendable (A, ProcessContext<U>) throws -> Void,
                                     second onSecond: @escaping @Sendable (B, ProcessContext<U>) throws -> Void) -> DataStream<U> {
        let env = first.environment
        let edges = first.edges(.forward, input: 0) + second.edges(.forward, input: 1)
        return DataStream<U>(env, env.addNode(name: name, parallelism: parallelism, inputs: edges) { ctx in
            let op = CoFlatMapOperator<A, B, U>(info: ctx.info, runtime: ctx.runtime, first: onFirst, second: onSecond)
            return OperatorInstance(op: op, inputs: [.of(Push(op.process1)), .of(Push(op.process2))], mainOutput: .of(op.output))
        })
    }

    public func map<U: Sendable>(name: String = "co-map", parallelism: Int? = nil,
                                 first mapFirst: @escaping @Sendable (A) throws -> U,
                                 second mapSecond: @escaping @Sendable (B) throws -> U) -> DataStream<U> {
        process(name: name, parallelism: parallelism,
                first: { v, ctx in try ctx.emit(mapFirst(v)) }, second: { v, ctx in try ctx.emit(mapSecond(v)) })
    }

    /// Keys both inputs into one key space: matching keys meet in the same subtask and state.
    public func keyBy<K: StreamKey>(_ firstKey: @escaping @Sendable (A) -> K,
                                    _ secondKey: @escaping @Sendable (B) -> K) -> KeyedConnectedStreams<K, A, B> {
        KeyedConnectedStreams(first: first.keyBy(firstKey), second: second.keyBy(secondKey))
    }
}

public struct KeyedConnectedStreams<K: StreamKey, A: Sendable, B: Sendable>: @unchecked Sendable {
    let first: KeyedStream<K, A>
    let second: KeyedStream<K, B>

    public func process<F: KeyedCoProcessFunction>(name: String = "co-process", parallelism: Int? = nil,
                                                   _ function: F) -> DataStream<F.Output>
    where F.Key == K, F.Input1 == A, F.Input2 == B, F: Sendable {
        let env = first.stream.environment
        let key1 = first.keyOf, key2 = second.keyOf
        let edges = first.keyedEdges(input: 0) + second.keyedEdges(input: 1)
        return DataStream(env, env.addNode(name: name, parallelism: parallelism, inputs: edges) { ctx in
            let op = KeyedCoProcessOperator(info: ctx.info, runtime: ctx.runtime, keyOf1: key1, keyOf2: key2, function: function)
            return OperatorInstance(op: op, inputs: [.of(Push(op.process1)), .of(Push(op.process2))], mainOutput: .of(op.output))
        })
    }
}
