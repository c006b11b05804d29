/// Deterministic testing of operators and small topologies: one thread, records and
/// watermarks sent by hand, processing time advanced by hand, outputs inspected after each
/// step. Every call processes everything its input makes possible before returning.
///
///     let h = StreamTestHarness(of: Event.self) { events in
///         events.keyBy(\.service).window(.tumbling(.seconds(10))).aggregate(StatsAggregate(\.latency))
///     }
///     try h.send(e1, at: 1_000)
///     try h.watermark(10_000)
///     h.output  // the window's results
public final class StreamTestHarness<In: Sendable, Out: Sendable> {
    public let environment: StreamEnvironment
    public let input: ManualInput<In>
    let mainStream: DataStream<Out>
    private let collected: CollectedRecords<Out>
    private var execution: EmbeddedExecution?

    public init(of type: In.Type = In.self, parallelism: Int = 1, startingAt time: Timestamp = 0,
                _ build: (DataStream<In>) throws -> DataStream<Out>) rethrows {
        environment = StreamEnvironment(name: "harness", parallelism: parallelism)
        let (stream, input) = environment.manualSource(In.self)
        self.input = input
        mainStream = try build(stream)
        collected = mainStream.collect()
        startTime = time
    }
    private let startTime: Timestamp

    /// Collects side output `tag` of the operator producing the output. Call before sending.
    public func sideOutput<X: Sendable>(_ tag: OutputTag<X>) -> CollectedRecords<X> {
        precondition(execution == nil, "declare side outputs before the first send")
        return mainStream.sideOutput(tag).collect(name: "collect \(tag.name)")
    }

    private func run() throws -> EmbeddedExecution {
        if let execution { return execution }
        let e = try environment.embedded(startingAt: startTime)
        execution = e
        return e
    }

    public func send(_ value: In, at timestamp: Timestamp = noTimestamp) throws {
        input.send(value, at: timestamp)
        try run().runUntilIdle()
    }

    public func send(_ values: [(In, Timestamp)]) throws {
        for (v, t) in values { input.send(v, at: t) }
        try run().runUntilIdle()
    }

    public func watermark(_ t: Timestamp) throws {
        input.watermark(t)
        try run().runUntilIdle()
    }

    public func advanceProcessingTime(to t: Timestamp) throws {
        try run().advanceProcessingTime(to: t)
    }

    /// Ends the input: the final watermark fires every remaining event-time window.
    public func end() throws {
        input.end()
        try run().runUntilIdle()
    }

    public var output: [Out] { collected.values }
    public var outputRecords: [StreamRecord<Out>] { collected.records }
    /// Returns and forgets the output so far.
    public func takeOutput() -> [Out] {
        defer { collected.removeAll() }
        return collected.values
    }
    public var metrics: JobMetrics { execution?.metrics ?? JobMetrics(tasks: []) }
}
