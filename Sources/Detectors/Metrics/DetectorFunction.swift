import Stream

/// The keyed detector operator: one detector value per series key, kept in keyed state (and
/// so in every checkpoint), fed that series' points in arrival order. Emits a `MetricAnomaly`
/// for each point the detector flags, timestamped with the point's time. A point that is not a
/// finite number never reaches the detector (a NaN would poison its state silently): it goes to
/// the side output `MetricPoint.rejected`, and the job goes on.
public struct DetectorFunction<D: AnomalyDetector>: KeyedProcessFunction, @unchecked Sendable {
    // @unchecked: the state handle is made in `open`, per subtask, and used by its thread only.
    public typealias Key = String
    public typealias Input = MetricPoint
    public typealias Output = MetricAnomaly

    let makeDetector: @Sendable () -> D
    /// Whether every judged point also goes to the side output `ScoredPoint.all`.
    let scoring: Bool
    private var state: ValueState<String, D>!

    public init(scoring: Bool = false, _ makeDetector: @escaping @Sendable () -> D) {
        self.makeDetector = makeDetector
        self.scoring = scoring
    }

    public mutating func open(_ context: KeyedContext<String, MetricAnomaly>) throws {
        state = try context.valueState("detector-\(D.name)", D.self)
    }

    public mutating func processElement(_ point: MetricPoint, _ context: KeyedContext<String, MetricAnomaly>) throws {
        guard point.value.isFinite else {
            try context.output(MetricPoint.rejected, point)
            return
        }
        let verdict = state.mutate(default: makeDetector) { $0.update(time: point.time, value: point.value) }
        if scoring {
            try context.output(ScoredPoint.all, ScoredPoint(series: point.series, time: point.time, value: point.value, score: verdict.score,
                                                            isAnomaly: verdict.isAnomaly, expectedLow: verdict.expected.lowerBound,
                                                            expectedHigh: verdict.expected.upperBound))
        }
        guard verdict.isAnomaly else { return }
        try context.emit(MetricAnomaly(series: point.series, time: point.time, value: point.value, score: verdict.score,
                                       expectedLow: verdict.expected.lowerBound, expectedHigh: verdict.expected.upperBound,
                                       detector: D.name, explanation: verdict.reason.description),
                         timestamp: point.time)
    }
}

extension MetricPoint {
    /// Where the detector operator puts points it cannot judge (values that are not finite):
    /// `anomalies.sideOutput(MetricPoint.rejected)`.
    public static let rejected = OutputTag<MetricPoint>("rejected-metric-points")
}

extension ScoredPoint {
    /// Where a scoring detector operator puts every point it judged.
    public static let all = OutputTag<ScoredPoint>("scored-metric-points")
}

extension DataStream where T == MetricPoint {
    /// Anomalies per series, one detector per series key (see `DetectorFunction`).
    /// `scoring`: every judged point also goes to the side output `ScoredPoint.all`.
    public func detect<D: AnomalyDetector>(name: String? = nil, parallelism: Int? = nil, scoring: Bool = false,
                                           _ makeDetector: @escaping @Sendable () -> D) -> DataStream<MetricAnomaly> {
        keyBy(\.series).process(name: name ?? "detect-\(D.name)", parallelism: parallelism, DetectorFunction(scoring: scoring, makeDetector))
    }
}

extension REDMetrics {
    /// The series RED detection watches: request rate, error ratio and p99 latency, keyed
    /// "service operation metric", timed at the window's end.
    public var points: [MetricPoint] {
        let key = seriesKey
        return [MetricPoint(series: key + " rate", time: windowEnd, value: rate),
                MetricPoint(series: key + " error_ratio", time: windowEnd, value: errorRatio),
                MetricPoint(series: key + " p99_ms", time: windowEnd, value: p99)]
    }
}
