/// A stream of records of type `T` in the logical graph. Transformations return new streams;
/// nothing runs until the environment executes.
public struct DataStream<T: Sendable>: @unchecked Sendable {
    public let environment: StreamEnvironment
    /// Usually one; several after `union` (the consumer reads all of them as one input).
    let origins: [StreamOrigin]

    init(_ environment: StreamEnvironment, _ node: LogicalNode) {
        self.environment = environment
        self.origins = [StreamOrigin(node: node, sideOutputTag: nil, makeSideSlot: nil)]
    }

    init(_ environment: StreamEnvironment, origins: [StreamOrigin]) {
        self.environment = environment
        self.origins = origins
    }

    private var node: LogicalNode {
        precondition(origins.count == 1, "name/parallelism apply to one operator, not to a union")
        return origins[0].node
    }

    // MARK: operator settings (apply to the operator that produced this stream)

    /// Names the operator (used in task names, metrics and error messages).
    public func name(_ name: String) -> DataStream<T> { node.name = name; return self }
    public func parallelism(_ p: Int) -> DataStream<T> { node.parallelism = p; return self }
    /// Runs this operator in a new task even where it could be chained to its input.
    public func startNewChain() -> DataStream<T> { node.chainable = false; return self }

    func edges(_ partitioning: Partitioning, input: Int = 0, keyGroupSelector: AnyObject? = nil) -> [LogicalEdge] {
        origins.map { LogicalEdge(origin: $0, targetInput: input, partitioning: partitioning, keyGroupSelector: keyGroupSelector) }
    }

    func add<U>(_ name: String, parallelism: Int?, partitioning: Partitioning = .forward,
                factory: @escaping @Sendable (OperatorBuildContext) throws -> OperatorInstance) -> DataStream<U> {
        DataStream<U>(environment, environment.addNode(name: name, parallelism: parallelism,
                                                       inputs: edges(partitioning), factory: factory))
    }

    // MARK: transformations

    public func map<U: Sendable>(name: String = "map", parallelism: Int? = nil,
                                 _ transform: @escaping @Sendable (T) throws -> U) -> DataStream<U> {
        add(name, parallelism: parallelism) { ctx in
            let op = MapOperator<T, U>(info: ctx.info, runtime: ctx.runtime, transform)
            return OperatorInstance(op: op, inputs: [.of(Push(op.process))], mainOutput: .of(op.output))
        }
    }

    public func filter(name: String = "filter", parallelism: Int? = nil,
                       _ predicate: @escaping @Sendable (T) throws -> Bool) -> DataStream<T> {
        add(name, parallelism: parallelism) { ctx in
            let op = FilterOperator<T>(info: ctx.info, runtime: ctx.runtime, predicate)
            return OperatorInstance(op: op, inputs: [.of(Push(op.process))], mainOutput: .of(op.output))
        }
    }

    public func flatMap<S: Sequence>(name: String = "flatMap", parallelism: Int? = nil,
                                     _ transform: @escaping @Sendable (T) throws -> S) -> DataStream<S.Element>
    where S.Element: Sendable, S: SendableMetatype {
        add(name, parallelism: parallelism) { ctx in
            let op = FlatMapOperator<T, S>(info: ctx.info, runtime: ctx.runtime, transform)
            return OperatorInstance(op: op, inputs: [.of(Push(op.process))], mainOutput: .of(op.output))
        }
    }

    /// A function with a context: emit any number of records, write to side outputs.
    public func process<U: Sendable>(name: String = "process", parallelism: Int? = nil,
                                     _ function: @escaping @Sendable (T, ProcessContext<U>) throws -> Void) -> DataStream<U> {
        add(name, parallelism: parallelism) { ctx in
            let op = ProcessOperator<T, U>(info: ctx.info, runtime: ctx.runtime, function)
            return OperatorInstance(op: op, inputs: [.of(Push(op.process))], mainOutput: .of(op.output))
        }
    }

    /// Sets event timestamps and generates watermarks here (rather than at the source).
    public func assignTimestamps(name: String = "timestamps", parallelism: Int? = nil,
                                 _ strategy: WatermarkStrategy<T>) -> DataStream<T> {
        add(name, parallelism: parallelism) { ctx in
            let op = TimestampsAndWatermarksOperator<T>(info: ctx.info, runtime: ctx.runtime, strategy: strategy)
            return OperatorInstance(op: op, inputs: [.of(Push(op.process))], mainOutput: .of(op.output))
        }
    }

    /// Partitions by key: records with equal keys go to the same subtask, where keyed state
    /// and timers are scoped to the key.
    public func keyBy<K: StreamKey>(_ key: @escaping @Sendable (T) -> K) -> KeyedStream<K, T> {
        KeyedStream(stream: self, keyOf: key)
    }

    /// Spreads records round-robin over the next operator's subtasks.
    public func rebalance() -> DataStream<T> {
        add("rebalance", parallelism: nil, partitioning: .rebalance) { ctx in
            let op = MapOperator<T, T>(info: ctx.info, runtime: ctx.runtime) { $0 }
            return OperatorInstance(op: op, inputs: [.of(Push(op.process))], mainOutput: .of(op.output))
        }
    }

    /// Merges streams of the same type; the next operator reads them as one input.
    public func union(_ others: DataStream<T>...) -> DataStream<T> { union(others) }

    /// Merges with a list of streams, however many a job built.
    public func union(_ others: [DataStream<T>]) -> DataStream<T> {
        DataStream(environment, origins: origins + others.flatMap(\.origins))
    }

    /// Pairs with a stream of another type for a two-input operator.
    public func connect<B: Sendable>(_ other: DataStream<B>) -> ConnectedStreams<T, B> {
        ConnectedStreams(first: self, second: other)
    }

    /// The records the producing operator wrote to side output `tag`.
    public func sideOutput<X: Sendable>(_ tag: OutputTag<X>) -> DataStream<X> {
        let tagName = tag.name
        return DataStream<X>(environment, origins: origins.map { o in
            StreamOrigin(node: o.node, sideOutputTag: tagName,
                         makeSideSlot: { op in OutputSlot.side(tagName, of: op, type: X.self) })
        })
    }

    // MARK: sinks

    /// Writes every record with a writer made per sink subtask.
    public func sink<W: SinkWriter>(name: String = "sink", parallelism: Int? = nil,
                                    _ makeWriter: @escaping @Sendable (_ subtask: Int, _ parallelism: Int) throws -> W)
    where W.Input == T {
        _ = environment.addNode(name: name, parallelism: parallelism, inputs: edges(.forward)) { ctx in
            let writer = try makeWriter(ctx.info.subtask, ctx.info.parallelism)
            let op = SinkOperator(info: ctx.info, runtime: ctx.runtime, writer: writer)
            return OperatorInstance(op: op, inputs: [.of(Push(op.process))], mainOutput: nil)
        }
    }
}
