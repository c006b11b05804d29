/// Incremental aggregation: a window (or keyed state) keeps one accumulator, not its records.
/// `merge` is needed by session windows, which merge when a record bridges two sessions.
public protocol AggregateFunction<Input, Output>: Sendable {
    associatedtype Input
    associatedtype Accumulator
    associatedtype Output
    func makeAccumulator() -> Accumulator
    func add(_ value: Input, to accumulator: inout Accumulator)
    func merge(_ other: Accumulator, into accumulator: inout Accumulator)
    func result(_ accumulator: Accumulator) -> Output
}

/// `reduce` as an aggregate: the accumulator is the running reduced value.
public struct ReduceAggregate<T>: AggregateFunction {
    let reduce: @Sendable (T, T) -> T
    public init(_ reduce: @escaping @Sendable (T, T) -> T) { self.reduce = reduce }
    public func makeAccumulator() -> T? { nil }
    public func add(_ value: T, to accumulator: inout T?) {
        accumulator = accumulator.map { reduce($0, value) } ?? value
    }
    public func merge(_ other: T?, into accumulator: inout T?) {
        guard let other else { return }
        accumulator = accumulator.map { reduce($0, other) } ?? other
    }
    public func result(_ accumulator: T?) -> T { accumulator! }
}

/// Keeps every record: only for full-window functions that need them all.
public struct CollectAggregate<T>: AggregateFunction {
    public init() {}
    public func makeAccumulator() -> [T] { [] }
    public func add(_ value: T, to accumulator: inout [T]) { accumulator.append(value) }
    public func merge(_ other: [T], into accumulator: inout [T]) { accumulator.append(contentsOf: other) }
    public func result(_ accumulator: [T]) -> [T] { accumulator }
}

/// Count, sum, mean, minimum and maximum of a number: the common case, ready-made.
public struct StatsAggregate<T: Sendable>: AggregateFunction {
    public struct Stats: Sendable, Hashable, CustomStringConvertible {
        public var count: Int = 0
        public var sum: Double = 0
        public var min: Double = .infinity
        public var max: Double = -.infinity
        public var mean: Double { count == 0 ? .nan : sum / Double(count) }
        public var description: String { "count=\(count) mean=\(mean) min=\(min) max=\(max)" }
    }
    let value: @Sendable (T) -> Double
    public init(_ value: @escaping @Sendable (T) -> Double) { self.value = value }
    public func makeAccumulator() -> Stats { Stats() }
    public func add(_ record: T, to s: inout Stats) {
        let v = value(record)
        s.count += 1
        s.sum += v
        if v < s.min { s.min = v }
        if v > s.max { s.max = v }
    }
    public func merge(_ o: Stats, into s: inout Stats) {
        s.count += o.count
        s.sum += o.sum
        s.min = Swift.min(s.min, o.min)
        s.max = Swift.max(s.max, o.max)
    }
    public func result(_ s: Stats) -> Stats { s }
}

/// A window's result for one key.
public struct WindowResult<K: Sendable, V: Sendable>: Sendable, CustomStringConvertible {
    public var key: K
    public var window: TimeWindow
    public var value: V
    public init(key: K, window: TimeWindow, value: V) { self.key = key; self.window = window; self.value = value }
    public var description: String { "\(key) \(window): \(value)" }
}
extension WindowResult: Equatable where K: Equatable, V: Equatable {}
extension WindowResult: Hashable where K: Hashable, V: Hashable {}
