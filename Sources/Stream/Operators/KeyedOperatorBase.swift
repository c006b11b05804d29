/// State backend, timers and context shared by keyed operators (one or two inputs).
class KeyedOperatorBase<Key: StreamKey, Out: Sendable>: StreamOperator {
    let output = Output<Out>()
    let backend: KeyedStateBackend<Key>
    let timers = InternalTimers<Key, Int8>()
    private(set) var context: KeyedContext<Key, Out>!
    /// Timer loops made by the concrete subclass's init (specialised, with the user function
    /// inlined): the overrides below are reached through the vtable, i.e. unspecialised.
    var fireEventTimers: ((Timestamp) throws -> Void)!
    var fireProcessingTimers: ((Timestamp) throws -> Void)!

    override init(info: OperatorInfo, inputs: Int, runtime: OperatorRuntime) {
        backend = KeyedStateBackend(keyGroups: info.keyGroups, maxParallelism: info.maxParallelism, clock: runtime.clock)
        super.init(info: info, inputs: inputs, runtime: runtime)
        outputs = [output]
        context = KeyedContext(op: self, output: output, backend: backend, timers: timers)
    }

    /// Builds the timer loops around `fire` (called from each subclass's init).
    func makeTimerLoops(_ fire: @escaping (Timestamp, TimeDomain) throws -> Void) {
        fireEventTimers = { [unowned(unsafe) self] watermark in
            try self.timers.advanceWatermark(to: watermark) { t in
                self.backend.setCurrentKey(t.key)
                self.context.timestamp = t.timestamp
                do { try fire(t.timestamp, .eventTime) } catch { throw self.wrap(error, context: "key \(t.key) (event-time timer)") }
            }
        }
        fireProcessingTimers = { [unowned(unsafe) self] now in
            try self.timers.advanceProcessingTime(to: now) { t in
                self.backend.setCurrentKey(t.key)
                self.context.timestamp = t.timestamp
                do { try fire(t.timestamp, .processingTime) } catch {
                    throw self.wrap(error, context: "key \(t.key) (processing-time timer)")
                }
            }
        }
    }

    override func onWatermark(_ watermark: Timestamp) throws { try fireEventTimers?(watermark) }

    override func checkpointProblems() -> [String] {
        backend.checkpointProblems(operatorName: info.name)
            + (InternalTimers<Key, Int8>.coderProblem.map { ["operator '\(info.name)': \($0)"] } ?? [])
    }

    override func snapshotState(checkpointID: Int64) throws -> OperatorSnapshot? {
        OperatorSnapshot(keyedSections: try backend.snapshotSections()
            + [timers.snapshotSection(maxParallelism: info.maxParallelism)])
    }

    override func restoreState(_ state: RestoredOperatorState) throws {
        try backend.restore(state.keyedSections)
        if let timerBlocks = state.keyedSections["timers"] { try timers.restore(timerBlocks) }
    }
    override func nextProcessingTime() -> Timestamp? { timers.nextProcessingTime }
    override func onProcessingTime(_ now: Timestamp) throws { try fireProcessingTimers?(now) }
}

final class KeyedProcessOperator<F: KeyedProcessFunction>: KeyedOperatorBase<F.Key, F.Output> {
    private var function: F
    private let keyOf: (F.Input) -> F.Key

    init(info: OperatorInfo, runtime: OperatorRuntime, keyOf: @escaping (F.Input) -> F.Key, function: F) {
        self.function = function
        self.keyOf = keyOf
        super.init(info: info, inputs: 1, runtime: runtime)
        makeTimerLoops { [unowned(unsafe) self] t, domain in try self.function.onTimer(t, domain: domain, self.context) }
    }

    override func open() throws {
        do { try function.open(context) } catch { throw wrap(error, context: "open") }
    }

    @inline(__always)
    func process(_ value: F.Input, _ ts: Timestamp) throws {
        let key = keyOf(value)
        backend.setCurrentKey(key)
        context.timestamp = ts
        do { try function.processElement(value, context) } catch { throw wrap(error, context: "key \(key)") }
    }
}

final class KeyedCoProcessOperator<F: KeyedCoProcessFunction>: KeyedOperatorBase<F.Key, F.Output> {
    private var function: F
    private let keyOf1: (F.Input1) -> F.Key
    private let keyOf2: (F.Input2) -> F.Key

    init(info: OperatorInfo, runtime: OperatorRuntime, keyOf1: @escaping (F.Input1) -> F.Key,
         keyOf2: @escaping (F.Input2) -> F.Key, function: F) {
        self.function = function
        self.keyOf1 = keyOf1
        self.keyOf2 = keyOf2
        super.init(info: info, inputs: 2, runtime: runtime)
        makeTimerLoops { [unowned(unsafe) self] t, domain in try self.function.onTimer(t, domain: domain, self.context) }
    }

    override func open() throws {
        do { try function.open(context) } catch { throw wrap(error, context: "open") }
    }

    func process1(_ value: F.Input1, _ ts: Timestamp) throws {
        let key = keyOf1(value)
        backend.setCurrentKey(key)
        context.timestamp = ts
        do { try function.processElement1(value, context) } catch { throw wrap(error, context: "key \(key) (first input)") }
    }

    func process2(_ value: F.Input2, _ ts: Timestamp) throws {
        let key = keyOf2(value)
        backend.setCurrentKey(key)
        context.timestamp = ts
        do { try function.processElement2(value, context) } catch { throw wrap(error, context: "key \(key) (second input)") }
    }
}

/// Rolling `reduce` on a keyed stream: emits the updated value for the key on every record.
final class KeyedReduceOperator<K: StreamKey, T: Sendable>: KeyedOperatorBase<K, T> {
    private let keyOf: (T) -> K
    private let reduce: (T, T) throws -> T
    private var state: ValueState<K, T>!

    init(info: OperatorInfo, runtime: OperatorRuntime, keyOf: @escaping (T) -> K, reduce: @escaping (T, T) throws -> T) {
        self.keyOf = keyOf
        self.reduce = reduce
        super.init(info: info, inputs: 1, runtime: runtime)
        state = try! context.valueState("reduce", T.self)
    }

    @inline(__always)
    func process(_ value: T, _ ts: Timestamp) throws {
        let key = keyOf(value)
        backend.setCurrentKey(key)
        let next: T
        if let current = state.value {
            do { next = try reduce(current, value) } catch { throw wrap(error, context: "key \(key)") }
        } else {
            next = value
        }
        state.update(next)
        try output.emit(next, timestamp: ts)
    }
}

/// `connect(...).map(...)`/`.flatMap`: two inputs of different types, one output, no keys.
final class CoFlatMapOperator<In1: Sendable, In2: Sendable, Out: Sendable>: StreamOperator {
    let output = Output<Out>()
    private let first: (In1, ProcessContext<Out>) throws -> Void
    private let second: (In2, ProcessContext<Out>) throws -> Void
    private var context: ProcessContext<Out>!

    init(info: OperatorInfo, runtime: OperatorRuntime, first: @escaping (In1, ProcessContext<Out>) throws -> Void,
         second: @escaping (In2, ProcessContext<Out>) throws -> Void) {
        self.first = first
        self.second = second
        super.init(info: info, inputs: 2, runtime: runtime)
        outputs = [output]
        context = ProcessContext(op: self, output: output)
    }

    func process1(_ value: In1, _ ts: Timestamp) throws {
        context.timestamp = ts
        do { try first(value, context) } catch { throw wrap(error, context: "record \(shortDescription(value)) (first input)") }
    }

    func process2(_ value: In2, _ ts: Timestamp) throws {
        context.timestamp = ts
        do { try second(value, context) } catch { throw wrap(error, context: "record \(shortDescription(value)) (second input)") }
    }
}
