import AIOps
import ArgumentParser
import Detectors
import Foundation
import Ingest
import Logging
import RCA
import Stream

/// `vigil incidents`: the AIOps pipeline over the Collector's Kafka topics — RED metrics and
/// log anomalies detected, spans, log lines and gauges in the knowledge graph, anomalies
/// grouped into incidents with their causes ranked. One JSON line per incident report.
struct IncidentsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "incidents",
        abstract: "Incidents and their ranked root causes from OTLP spans, logs and metrics in Kafka.",
        discussion: """
            Reads the topics of the signals given (--signal, repeatable; default all three). \
            Prints {"kind":"incident","change":"opened"|"updated"|"closed",...} lines: the \
            incident's anomalies and entities, and its first candidates with their evidence and \
            the path of anomalous callers that leads to each. A report is made when an incident \
            opens, when its first-ranked cause changes, and when it closes (--quiet-seconds \
            without new anomalies).
            """
    )

    enum Signal: String, CaseIterable, ExpressibleByArgument { case spans, logs, metrics }

    @Option(help: "Kafka bootstrap servers.") var brokers: String
    @Option(name: .customLong("signal"), help: "Signals to read (repeatable): spans, logs, metrics.") var signals: [Signal] = Signal.allCases
    @Option(help: "Topic of OTLP spans.") var spansTopic = OTLPTopics.spans
    @Option(help: "Topic of OTLP logs.") var logsTopic = OTLPTopics.logs
    @Option(help: "Topic of OTLP metrics.") var metricsTopic = OTLPTopics.metrics
    @Option(help: "otlp_proto or otlp_json.") var encoding = "otlp_proto"
    @Option(help: "Consumer group id prefix (each signal's source adds -spans, -logs, -metrics).") var group = "vigil-incidents"
    @Option(help: "Dead-letter topic for undecodable messages.") var deadLetterTopic = "vigil_dead_letters"
    @Flag(help: "Stop once every assigned partition is read to its end (otherwise run until stopped).") var stopAtEnd = false
    @Option(help: "How far out of order records may arrive, in ms.") var maxDelayMs = 5_000
    @Option(help: "RED window in seconds.") var windowSeconds = 10
    @Option(help: "Knowledge-graph window in seconds.") var graphWindowSeconds = 60
    @Option(help: "Log-anomaly window in seconds.") var logWindowSeconds = 60
    @Option(help: "Windows each log series only learns from before it reports.") var warmupWindows = 5
    @Option(help: "An incident closes after this long without new anomalies.") var quietSeconds = 300
    @Option(help: "Detector per RED series: \(REDCommand.detectorNames.joined(separator: ", ")).") var detector = "ensemble"
    @Option(help: "Write the JSON lines into this directory (file part-0) instead of standard output.") var output: String?

    func validate() throws {
        guard OTLPEncoding(rawValue: encoding) != nil else {
            throw ValidationError("--encoding must be one of \(OTLPEncoding.allCases.map(\.rawValue).joined(separator: ", ")), got '\(encoding)'")
        }
        for (name, v) in [("--window-seconds", windowSeconds), ("--graph-window-seconds", graphWindowSeconds), ("--log-window-seconds", logWindowSeconds),
                          ("--quiet-seconds", quietSeconds)] where v <= 0 {
            throw ValidationError("\(name) must be positive, got \(v)")
        }
        guard maxDelayMs >= 0 else { throw ValidationError("--max-delay-ms must not be negative, got \(maxDelayMs)") }
        guard warmupWindows >= 0 else { throw ValidationError("--warmup-windows must not be negative, got \(warmupWindows)") }
        guard REDCommand.detectorNames.contains(detector) else {
            throw ValidationError("--detector \(detector): unknown; choose from \(REDCommand.detectorNames.joined(separator: ", "))")
        }
        guard !signals.isEmpty else { throw ValidationError("--signal: give at least one of spans, logs, metrics") }
    }

    func run() throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        let encoding = OTLPEncoding(rawValue: encoding)!
        let env = StreamEnvironment(name: "incidents", parallelism: 1)
        func options(_ topic: String, _ signal: Signal) -> KafkaSourceOptions {
            var o = KafkaSourceOptions(brokers: brokers, topics: [topic], groupID: "\(group)-\(signal.rawValue)")
            o.boundedness = stopAtEnd ? .untilEndOfPartitions : .unbounded
            o.outOfOrderness = .milliseconds(Int64(maxDelayMs))
            o.deadLetterTopic = deadLetterTopic
            return o
        }
        var streams: [DataStream<Telemetry>] = []
        for signal in Set(signals).sorted(by: { $0.rawValue < $1.rawValue }) {
            switch signal {
            case .spans:
                streams.append(env.kafkaSource(options(spansTopic, .spans)) { OTLPSpanDecoder(encoding: encoding) }.map { Telemetry.span(ObservedSpan(span: $0)) })
            case .logs:
                streams.append(env.kafkaSource(options(logsTopic, .logs)) { OTLPLogDecoder(encoding: encoding) }.map { Telemetry.log(RawLog(log: $0)) })
            case .metrics:
                streams.append(env.kafkaSource(options(metricsTopic, .metrics)) { OTLPMetricDecoder(encoding: encoding) }
                    .process { point, out in if let m = ObservedMetric(point: point) { try out.emit(Telemetry.metric(m)) } })
            }
        }
        let telemetry = streams.dropFirst().reduce(streams[0]) { $0.union($1) }
        let config = AIOpsConfig(
            redWindow: .seconds(Int64(windowSeconds)),
            logAnomalies: LogAnomalyConfig(window: .seconds(Int64(logWindowSeconds)), warmupWindows: warmupWindows),
            rca: RCAConfig(graph: KnowledgeGraphConfig(windowMillis: Int64(graphWindowSeconds) * 1000, allowedLatenessMillis: Int64(maxDelayMs)),
                           incidents: IncidentConfig(quietMillis: Int64(quietSeconds) * 1000)))
        let detector = self.detector
        let reports = telemetry.incidents(config) { REDCommand.detect($0, with: detector) }
        let lines = reports.map { JSONLines.line(kind: "incident", IncidentLine($0)) }
        if let output { lines.writeLines(to: output) } else { lines.print() }
        _ = try env.execute()
        let c = IngestCounters.shared
        FileHandle.standardError.write(Data("incidents: \(c.messages.load(ordering: .relaxed)) messages, \(c.deadLetters.load(ordering: .relaxed)) dead letters\n".utf8))
    }
}

/// An incident report as a JSON line.
struct IncidentLine: Encodable {
    struct Cause: Encodable {
        var entity: String
        var entityKind: String
        var score: Double
        var evidence: [String]
        var path: [String]
    }

    var change: String
    var id: UInt64
    var openedMs: Int64
    var lastEvidenceMs: Int64
    var closedMs: Int64?
    var anomalies: Int
    /// The first anomalies, "entity signal" (at most 20).
    var firstAnomalies: [String]
    var entities: [String]
    var causes: [Cause]
    var summary: String

    init(_ r: IncidentReport) {
        change = r.change.rawValue
        id = r.incident.id
        openedMs = r.incident.opened
        lastEvidenceMs = r.incident.lastEvidence
        closedMs = r.incident.closed
        anomalies = r.incident.events.count + r.incident.droppedEvents
        firstAnomalies = r.incident.events.prefix(20).map { "\($0.entity.name) \($0.signal)" }
        entities = r.incident.entities.sorted().map(\.name)
        causes = r.causes.map { Cause(entity: $0.entity.name, entityKind: $0.entity.kind.label, score: $0.score,
                                      evidence: $0.evidence.map(\.description), path: $0.path.map(\.name)) }
        summary = r.description
    }
}
