import Detectors
import RCA
import Stream

/// The job's telemetry after decoding: what the AIOps pipeline takes.
public enum Telemetry: Sendable {
    case span(ObservedSpan)
    case log(RawLog)
    case metric(ObservedMetric)
}

/// Settings of the built-in pipeline.
public struct AIOpsConfig: Sendable {
    public var redWindow: TimeSpan
    public var logAnomalies: LogAnomalyConfig
    public var rca: RCAConfig

    public init(redWindow: TimeSpan = .seconds(10), logAnomalies: LogAnomalyConfig = LogAnomalyConfig(), rca: RCAConfig = RCAConfig()) {
        self.redWindow = redWindow
        self.logAnomalies = logAnomalies
        self.rca = rca
    }
}

extension DataStream where T == Telemetry {
    /// The AIOps pipeline: spans → RED metrics → `detect`; logs → templates → log anomalies;
    /// spans, mined log lines and gauges → the knowledge graph; every anomaly → incidents,
    /// ranked from the graph (`rootCauses`).
    /// `hostAnomalies`: further evidence, such as the host's eBPF signals (`hostAnomalies(_:detect:)`).
    public func incidents(_ config: AIOpsConfig = AIOpsConfig(),
                          hostAnomalies: DataStream<AnomalyEvent>? = nil,
                          detect: (DataStream<MetricPoint>) -> DataStream<MetricAnomaly> = { $0.detect { MedianMADDetector() } })
        -> DataStream<IncidentReport> {
        // Split by kind through a process function: a flatMap would build an array per record.
        let spans: DataStream<ObservedSpan> = process(name: "spans") { t, out in if case .span(let s) = t { try out.emit(s) } }
        // Template mining and log windows depend on the order lines arrive in: sorted by event
        // time, a replay mines what the live run mined.
        let logs: DataStream<RawLog> = process(name: "logs") { t, out in if case .log(let l) = t { try out.emit(l) } }
            .keyBy(\.service).sortedByEventTime(name: "logs-in-time-order")
        let gauges: DataStream<ObservedMetric> = process(name: "gauges") { t, out in if case .metric(let m) = t { try out.emit(m) } }

        let redAnomalies = detect(spans.map(name: "red-samples") { SpanSample(observed: $0) }
            .redMetrics(window: config.redWindow)
            .flatMap(name: "red-points") { $0.points })
            // A latency or error ratio that falls below what the detector expected is a
            // recovery, not a symptom (a detector that learnt the fault flags the way back).
            .filter(name: "red-symptoms") { a in !(MetricPolarity.of(a.series) == .higherIsWorse && a.value < a.expectedLow) }
            .map(name: "red-anomalies") { RCAInput.anomaly(AnomalyEvent(metricAnomaly: $0)) }
        let logAnomalies = logs.map(name: "log-records") { LogEvent(service: $0.service, severityNumber: $0.isError ? 17 : 9, message: $0.text) }
            .logAnomalies(config.logAnomalies)
            .map(name: "log-anomalies") { RCAInput.anomaly(AnomalyEvent(logAnomaly: $0)) }
        let mined = logs.keyBy(\.service).process(name: "log-events", LogEventFunction(miner: config.logAnomalies.miner))
            .map(name: "graph-logs") { RCAInput.log($0) }

        var inputs = [mined, gauges.map(name: "graph-gauges") { RCAInput.metric($0) }, redAnomalies, logAnomalies]
        if let hostAnomalies { inputs.append(hostAnomalies.map(name: "host-anomalies") { RCAInput.anomaly($0) }) }
        return spans.map(name: "graph-spans") { RCAInput.span($0) }
            .union(inputs)
            .rootCauses(config: config.rca)
    }
}
