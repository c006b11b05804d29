import ArgumentParser
import Detectors
import Foundation
import Ingest
import Logging
import Stream

/// `vigil red`: RED metrics per service and operation from OTLP spans in Kafka, with a detector
/// on each metric series. One JSON line per anomaly (and per window's metrics with --metrics).
struct REDCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "red",
        abstract: "Rate, errors and latency per service and operation from OTLP spans in Kafka, with anomaly detection.",
        discussion: """
            Spans are counted per event-time window by their start: per service (resource \
            attribute service.name) and operation (the http.route attribute, else the span name). \
            Each window gives request rate, error ratio (status ERROR) and p50/p95/p99 latency \
            (1% relative error). The rate, error ratio and p99 of each service operation are \
            series, each judged by its own detector. Spans may arrive up to --max-delay-ms out \
            of order; a span later than that is reported as a {"kind":"late_span",...} line, \
            not counted. Prints {"kind":"anomaly",...} lines, and {"kind":"red",...} lines with \
            --metrics.
            """
    )

    @OptionGroup var input: OTLPInputOptions
    @Option(help: "Window length in seconds.") var windowSeconds = 10
    @Option(help: "How far out of order (by start time) spans may arrive and still count, in ms.") var maxDelayMs = 5_000
    @Option(help: "Detector per series: \(detectorNames.joined(separator: ", ")).") var detector = "ensemble"
    @Flag(help: "Also print every window's RED metrics.") var metrics = false
    @Option(help: "Write the JSON lines into this directory (file part-0) instead of standard output.") var output: String?

    static let detectorNames = ["ensemble", "ewma", "mad", "seasonal", "spot", "novelty", "shape"]

    /// One detector per series, chosen by name (one of `detectorNames`); `vigil incidents` too.
    /// `scoring`: every judged point also goes to the side output `ScoredPoint.all`.
    static func detect(_ points: DataStream<Detectors.MetricPoint>, with detector: String, scoring: Bool = false) -> DataStream<MetricAnomaly> {
        switch detector {
        case "ewma": points.detect(scoring: scoring) { EWMADetector() }
        case "mad": points.detect(scoring: scoring) { MedianMADDetector() }
        case "seasonal": points.detect(scoring: scoring) { SeasonalDetector() }
        case "spot": points.detect(scoring: scoring) { SPOTDetector() }
        case "novelty": points.detect(scoring: scoring) { NoveltyDetector() }
        case "shape": points.detect(scoring: scoring) { ShapeNoveltyDetector() }
        default: points.detect(scoring: scoring) { EnsembleDetector() }
        }
    }

    func validate() throws {
        guard windowSeconds > 0 else { throw ValidationError("--window-seconds must be positive, got \(windowSeconds)") }
        guard maxDelayMs >= 0 else { throw ValidationError("--max-delay-ms must not be negative, got \(maxDelayMs)") }
        guard Self.detectorNames.contains(detector) else {
            throw ValidationError("--detector \(detector): unknown; choose from \(Self.detectorNames.joined(separator: ", "))")
        }
    }

    func run() throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        let encoding = input.otlpEncoding
        let env = StreamEnvironment(name: "red", parallelism: 1)
        var options = try input.sourceOptions(defaultTopic: OTLPTopics.spans, defaultGroup: "vigil-red")
        options.outOfOrderness = .milliseconds(Int64(maxDelayMs))
        let late = OutputTag<SpanSample>("late-spans")
        let red = env.kafkaSource(options) { OTLPSpanDecoder(encoding: encoding) }
            .map { SpanSample(span: $0) }
            .redMetrics(window: .seconds(Int64(windowSeconds)), lateSpans: late)
        let points = red.flatMap { $0.points }
        let anomalies = Self.detect(points, with: detector)
        var lines = anomalies.map { JSONLines.line(kind: "anomaly", $0) }
            .union(red.sideOutput(late).map { JSONLines.line(kind: "late_span", $0) })
        if metrics { lines = lines.union(red.map { JSONLines.line(kind: "red", $0) }) }
        if let output { lines.writeLines(to: output) } else { lines.print() }
        _ = try env.execute()
        let c = IngestCounters.shared
        FileHandle.standardError.write(Data("red: \(c.messages.load(ordering: .relaxed)) messages, \(c.deadLetters.load(ordering: .relaxed)) dead letters\n".utf8))
    }
}

extension SpanSample {
    /// The RED view of an OTLP span.
    init(span: SpanRecord) {
        let route: String? = if case .string(let r)? = span.attribute("http.route"), !r.isEmpty { r } else { nil }
        self.init(service: span.origin.serviceName, operation: route ?? span.name,
                  startTime: Int64(span.startTimeUnixNano / 1_000_000), durationNanos: span.durationNanos,
                  isError: span.statusCode == .error)
    }
}
