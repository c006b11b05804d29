import Logging

/// Where a topology is declared and run. Declare sources on it, chain transformations on the
/// streams they return, add sinks, then `execute()` (blocking), `start()` (a handle), `run()`
/// (async) — or `embedded()` for a deterministic single-threaded run in tests.
public final class StreamEnvironment: @unchecked Sendable {
    public let name: String
    /// Parallelism of operators declared without one.
    public var parallelism: Int
    /// Number of key groups: the upper bound for any keyed operator's parallelism, and the
    /// granularity at which keyed state is redistributed on rescale. Fixed for a job's life.
    public var maxParallelism: Int = KeyGroups.defaultMaxParallelism
    public var exchange = ExchangeConfig()
    /// Threads for the job's tasks: one per task (default) or one per core, shared.
    public var threading = ThreadingModel.threadPerTask
    /// Checkpoints to local disk, and restore on start; nil: none (the default).
    public var checkpointing: CheckpointConfig?
    public var logger = Logger(label: "vigil.stream")
    private(set) var nodes: [LogicalNode] = []

    public init(name: String = "job", parallelism: Int = 1) {
        self.name = name
        self.parallelism = parallelism
    }

    func addNode(name: String, parallelism: Int?, isSource: Bool = false, inputs: [LogicalEdge],
                 factory: @escaping @Sendable (OperatorBuildContext) throws -> OperatorInstance) -> LogicalNode {
        let node = LogicalNode(id: nodes.count, name: name, parallelism: parallelism ?? self.parallelism,
                               maxParallelism: maxParallelism, isSource: isSource, factory: factory)
        node.inputs = inputs
        nodes.append(node)
        return node
    }

    // MARK: sources

    /// A source reading splits with `makeReader(subtask, parallelism)`.
    /// `idleTimeout` marks a split idle after that long without records (for readers that
    /// give timestamps themselves; otherwise the strategy's `withIdleness` does the same).
    public func source<R: SourceReader>(
        name: String, parallelism: Int? = nil, watermarks: WatermarkStrategy<R.Record>? = nil,
        idleTimeout: TimeSpan? = nil,
        _ makeReader: @escaping @Sendable (_ subtask: Int, _ parallelism: Int) throws -> R
    ) -> DataStream<R.Record> {
        let node = addNode(name: name, parallelism: parallelism, isSource: true, inputs: []) { ctx in
            let reader = try makeReader(ctx.info.subtask, ctx.info.parallelism)
            let op = SourceOperator(info: ctx.info, runtime: ctx.runtime, reader: reader, strategy: watermarks,
                                    idleTimeout: idleTimeout)
            return OperatorInstance(op: op, inputs: [], mainOutput: .of(op.output), source: op)
        }
        return DataStream(self, node)
    }

    /// The elements of an array, split over `parallelism` subtasks.
    public func fromCollection<T: Sendable>(_ elements: [T], name: String = "collection", parallelism: Int? = nil,
                                            watermarks: WatermarkStrategy<T>? = nil) -> DataStream<T> {
        source(name: name, parallelism: parallelism, watermarks: watermarks) { s, p in
            CollectionReader(elements: elements, subtask: s, parallelism: p)
        }
    }

    /// `count` records made by `generate(sequenceNumber)`.
    public func generate<T: Sendable>(count: Int, name: String = "generator", parallelism: Int? = nil,
                                      watermarks: WatermarkStrategy<T>? = nil,
                                      _ generate: @escaping @Sendable (Int) -> T) -> DataStream<T> {
        source(name: name, parallelism: parallelism, watermarks: watermarks) { s, p in
            GeneratorReader(count: count, subtask: s, parallelism: p, generate: generate)
        }
    }

    /// The lines of a text file (without their line terminators).
    public func readLines(_ path: String, name: String? = nil, parallelism: Int? = nil,
                          watermarks: WatermarkStrategy<String>? = nil) -> DataStream<String> {
        source(name: name ?? "lines(\(path))", parallelism: parallelism, watermarks: watermarks) { s, p in
            try LinesFileReader(path: path, subtask: s, parallelism: p)
        }
    }

    // MARK: running

    func makeTasks(clock: any ProcessingClock, exchange: ExchangeConfig) throws -> [StreamTask] {
        let plan = try PhysicalPlan.make(nodes: nodes)
        return try TaskBuilder.build(nodes: nodes, plan: plan, exchange: exchange, clock: clock,
                                     checkpointing: checkpointing != nil)
    }

    /// Starts the job on one thread per task and returns at once. With checkpointing, state
    /// is first restored (see `CheckpointConfig.restore`).
    public func start() throws -> JobHandle {
        let tasks = try makeTasks(clock: WallClock(), exchange: exchange)
        let coordinator = try prepareCheckpoints(tasks, inlineIO: false)
        let handle = JobHandle(name: name, tasks: tasks, sourceBatchSize: exchange.batchSize, threading: threading,
                               coordinator: coordinator, logger: logger)
        handle.start()
        return handle
    }

    /// Runs the job until its (bounded) sources are exhausted and everything is processed.
    /// Throws `JobFailedError` naming the operator and record key if user code fails.
    @discardableResult
    public func execute() throws -> JobResult {
        try start().wait()
    }

    /// `execute()` without blocking the caller's thread.
    @discardableResult
    public func run() async throws -> JobResult {
        let handle = try start()
        return try await withCheckedThrowingContinuation { continuation in
            let box = UncheckedBox(handle)
            Thread.detachNewThread {
                continuation.resume(with: Result { try box.value.wait() })
            }
        }
    }

    /// A deterministic single-threaded run with a manual processing clock (tests).
    public func embedded(startingAt time: Timestamp = 0) throws -> EmbeddedExecution {
        let clock = ManualClock(startingAt: time)
        var config = exchange
        config.channelCapacity = .max
        let tasks = try makeTasks(clock: clock, exchange: config)
        return EmbeddedExecution(tasks: tasks, clock: clock, sourceBatchSize: exchange.batchSize,
                                 coordinator: try prepareCheckpoints(tasks, inlineIO: true))
    }

    /// The physical plan, one line per task chain: for `vigil plan`-style inspection and tests.
    public func describePlan() throws -> [String] {
        let plan = try PhysicalPlan.make(nodes: nodes)
        return plan.chains.map { chain in
            "\(chain.nodes.map(\.name).joined(separator: " -> ")) x\(chain.parallelism)"
        }
    }
}

import Foundation
