/// `map`: one record in, one out; keeps the record's timestamp.
final class MapOperator<In: Sendable, Out: Sendable>: StreamOperator {
    let output = Output<Out>()
    private let transform: (In) throws -> Out

    init(info: OperatorInfo, runtime: OperatorRuntime, _ transform: @escaping (In) throws -> Out) {
        self.transform = transform
        super.init(info: info, inputs: 1, runtime: runtime)
        outputs = [output]
    }

    @inline(__always)
    func process(_ value: In, _ ts: Timestamp) throws {
        let result: Out
        do { result = try transform(value) } catch { throw wrap(error, context: "record \(shortDescription(value))") }
        try output.emit(result, timestamp: ts)
    }
}

/// `filter`: keeps the records for which the predicate holds.
final class FilterOperator<T: Sendable>: StreamOperator {
    let output = Output<T>()
    private let predicate: (T) throws -> Bool

    init(info: OperatorInfo, runtime: OperatorRuntime, _ predicate: @escaping (T) throws -> Bool) {
        self.predicate = predicate
        super.init(info: info, inputs: 1, runtime: runtime)
        outputs = [output]
    }

    @inline(__always)
    func process(_ value: T, _ ts: Timestamp) throws {
        let keep: Bool
        do { keep = try predicate(value) } catch { throw wrap(error, context: "record \(shortDescription(value))") }
        if keep { try output.emit(value, timestamp: ts) }
    }
}

/// `flatMap`: zero or more records out per record in, each with the input's timestamp.
final class FlatMapOperator<In: Sendable, S: Sequence>: StreamOperator where S.Element: Sendable {
    let output = Output<S.Element>()
    private let transform: (In) throws -> S

    init(info: OperatorInfo, runtime: OperatorRuntime, _ transform: @escaping (In) throws -> S) {
        self.transform = transform
        super.init(info: info, inputs: 1, runtime: runtime)
        outputs = [output]
    }

    @inline(__always)
    func process(_ value: In, _ ts: Timestamp) throws {
        let results: S
        do { results = try transform(value) } catch { throw wrap(error, context: "record \(shortDescription(value))") }
        for r in results { try output.emit(r, timestamp: ts) }
    }
}

/// Context of a non-keyed `process` function: emit, side outputs, time.
public final class ProcessContext<Out: Sendable> {
    unowned let op: StreamOperator
    let output: Output<Out>
    /// The current record's event timestamp (`noTimestamp` if none).
    public internal(set) var timestamp: Timestamp = noTimestamp

    init(op: StreamOperator, output: Output<Out>) {
        self.op = op
        self.output = output
    }

    @inline(__always) public func emit(_ value: Out) throws { try output.emit(value, timestamp: timestamp) }
    @inline(__always) public func emit(_ value: Out, timestamp: Timestamp) throws { try output.emit(value, timestamp: timestamp) }
    /// Emits to side output `tag` (dropped, and counted on the output, if nothing consumes it).
    public func output<X: Sendable>(_ tag: OutputTag<X>, _ value: X) throws {
        try op.sideOutput(tag)?.emit(value, timestamp: timestamp)
    }
    public var currentWatermark: Timestamp { op.currentWatermark }
    public var currentProcessingTime: Timestamp { op.processingClock.now() }
    public var subtask: Int { op.info.subtask }
}

/// Non-keyed `process`: a function with a context, for side outputs and many-to-many.
final class ProcessOperator<In: Sendable, Out: Sendable>: StreamOperator {
    let output = Output<Out>()
    private let function: (In, ProcessContext<Out>) throws -> Void
    private var context: ProcessContext<Out>!

    init(info: OperatorInfo, runtime: OperatorRuntime, _ function: @escaping (In, ProcessContext<Out>) throws -> Void) {
        self.function = function
        super.init(info: info, inputs: 1, runtime: runtime)
        outputs = [output]
        context = ProcessContext(op: self, output: output)
    }

    @inline(__always)
    func process(_ value: In, _ ts: Timestamp) throws {
        context.timestamp = ts
        do { try function(value, context) } catch { throw wrap(error, context: "record \(shortDescription(value))") }
    }
}

/// Assigns event timestamps from the records and generates watermarks (bounded
/// out-of-orderness), replacing any watermarks from upstream — as Flink's operator does.
final class TimestampsAndWatermarksOperator<T: Sendable>: StreamOperator, BatchEndObserving {
    let output = Output<T>()
    private let timestampOf: (T) -> Timestamp
    private let outOfOrderness: Int64
    private var maxTimestamp: Timestamp = .min

    init(info: OperatorInfo, runtime: OperatorRuntime, strategy: WatermarkStrategy<T>) {
        self.timestampOf = strategy.timestamp
        self.outOfOrderness = strategy.outOfOrderness.milliseconds
        super.init(info: info, inputs: 1, runtime: runtime)
        outputs = [output]
        ignoresInputWatermarks = true
    }

    @inline(__always)
    func process(_ value: T, _ ts: Timestamp) throws {
        let t = timestampOf(value)
        if t > maxTimestamp { maxTimestamp = t }
        try output.emit(value, timestamp: t)
    }

    override func onBatchEnd() throws {
        if maxTimestamp > .min { try emitWatermark(maxTimestamp &- outOfOrderness &- 1) }
    }
}
