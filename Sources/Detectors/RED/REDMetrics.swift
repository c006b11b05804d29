import Stream

/// Rate, errors and duration of one service operation in one window.
public struct REDMetrics: Sendable, Equatable, Codable {
    public var service: String
    public var operation: String
    public var windowStart: Int64
    public var windowEnd: Int64
    public var requests: Int
    public var errors: Int
    /// Requests per second over the window.
    public var rate: Double
    public var errorRatio: Double
    /// Latency quantiles in milliseconds, within 1% relative error.
    public var p50: Double
    public var p95: Double
    public var p99: Double
    public var max: Double

    /// "service operation" — the series key detectors judge these under.
    public var seriesKey: String { "\(service) \(operation)" }
}

/// A window's counts and latency sketch, mergeable across subtasks and panes.
public struct REDAccumulator: Sendable, Equatable {
    public var requests = 0
    public var errors = 0
    public var latencyMillis: DDSketch

    public init(relativeAccuracy: Double) { latencyMillis = DDSketch(relativeAccuracy: relativeAccuracy) }
}

extension REDAccumulator: StateCodable {
    public func encode(to w: inout StateWriter) {
        requests.encode(to: &w); errors.encode(to: &w); latencyMillis.encode(to: &w)
    }
    public static func decode(from r: inout StateReader) throws -> REDAccumulator {
        let requests = try Int.decode(from: &r), errors = try Int.decode(from: &r)
        let sketch = try DDSketch.decode(from: &r)
        var a = REDAccumulator(relativeAccuracy: sketch.relativeAccuracy)
        a.requests = requests; a.errors = errors; a.latencyMillis = sketch
        return a
    }
}

/// The incremental window aggregate behind `redMetrics`: O(1) per span (a sketch insert).
public struct REDAggregate: AggregateFunction {
    public let relativeAccuracy: Double
    public init(relativeAccuracy: Double = 0.01) { self.relativeAccuracy = relativeAccuracy }

    public func makeAccumulator() -> REDAccumulator { REDAccumulator(relativeAccuracy: relativeAccuracy) }
    public func add(_ span: SpanSample, to a: inout REDAccumulator) {
        a.requests += 1
        if span.isError { a.errors += 1 }
        a.latencyMillis.add(Double(span.durationNanos) / 1e6)
    }
    public func merge(_ other: REDAccumulator, into a: inout REDAccumulator) {
        a.requests += other.requests
        a.errors += other.errors
        a.latencyMillis.merge(other.latencyMillis)
    }
    public func result(_ a: REDAccumulator) -> REDAccumulator { a }
}

extension DataStream where T == SpanSample {
    /// RED metrics per service and operation per tumbling event-time window of `window`.
    /// Needs event-time timestamps (the span start) and watermarks on the records. Spans that
    /// arrive after their window closed go to `lateSpans` when given (otherwise they are
    /// dropped, as late records of any window are).
    public func redMetrics(window: TimeSpan, relativeAccuracy: Double = 0.01, lateSpans: OutputTag<SpanSample>? = nil,
                           name: String = "red-metrics", parallelism: Int? = nil) -> DataStream<REDMetrics> {
        let seconds = Double(window.milliseconds) / 1000
        var windowed = keyBy { StreamKeyPair($0.service, $0.operation) }.window(.tumbling(window))
        if let lateSpans { windowed = windowed.sideOutputLateData(lateSpans) }
        return windowed
            .aggregate(name: name, parallelism: parallelism, REDAggregate(relativeAccuracy: relativeAccuracy)) { key, w, a in
                let sketch = a.latencyMillis
                return REDMetrics(service: key.first, operation: key.second, windowStart: w.start, windowEnd: w.end,
                                  requests: a.requests, errors: a.errors, rate: Double(a.requests) / seconds,
                                  errorRatio: a.requests > 0 ? Double(a.errors) / Double(a.requests) : 0,
                                  p50: sketch.quantile(0.5) ?? 0, p95: sketch.quantile(0.95) ?? 0,
                                  p99: sketch.quantile(0.99) ?? 0, max: sketch.max.isFinite ? sketch.max : 0)
            }
    }
}
