import Detectors
import RCA

// Detector outputs as the anomaly events incidents are made of.

extension AnomalyEvent {
    /// A RED series' anomaly: the series key is "service operation metric", so the service is
    /// its first word (service names have no spaces) and the signal its last.
    public init(metricAnomaly a: MetricAnomaly) {
        let words = a.series.split(separator: " ")
        self.init(time: a.time, entity: .service(words.first.map(String.init) ?? a.series), signal: words.last.map(String.init) ?? "value",
                  score: a.score, detail: "\(a.series) = \(a.value) (expected \(a.expectedLow)…\(a.expectedHigh)): \(a.explanation)")
    }

    /// A log anomaly (new template, rate shift, error burst) of a service, at its window.
    public init(logAnomaly a: LogAnomaly) {
        // A rate shift's score is in standard deviations; the others are certain by construction.
        let score = a.kind == .rateShift ? min(1, abs(a.score) / 10) : 1
        self.init(time: a.windowStart, entity: .service(a.service), signal: a.kind.rawValue, score: score, detail: a.description)
    }
}

extension SpanSample {
    /// The RED view of a span the graph also takes.
    public init(observed s: ObservedSpan) {
        self.init(service: s.service, operation: s.operation, startTime: Int64(s.startNanos / 1_000_000), durationNanos: s.durationNanos, isError: s.isError)
    }
}
