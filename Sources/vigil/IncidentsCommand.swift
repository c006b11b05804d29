import AIOps
import ArgumentParser
import Detectors
import Foundation
import Ingest
import Logging
import RCA
import Remediate
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
    @Option(help: "State directory: checkpoints (detectors, templates, the knowledge graph, incidents, Kafka offsets).") var state: String?
    @Option(help: "Milliseconds between checkpoints.") var checkpointIntervalMs: Int64 = 10_000
    @Option(help: "Remediation policy file (YAML): act on incidents (see docs/remediation.md).") var policies: String?
    @Option(help: "Remediation directory (outbox, audit log, approvals); default STATE/remediation.") var remediationDir: String?

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
        guard checkpointIntervalMs > 0 else { throw ValidationError("--checkpoint-interval-ms must be positive, got \(checkpointIntervalMs)") }
        if policies != nil && state == nil {
            throw ValidationError("--policies needs --state: an action runs only once the checkpoint that records it is complete")
        }
        if remediationDir != nil && policies == nil { throw ValidationError("--remediation-dir needs --policies") }
    }

    func run() throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        let remediation = try policies.map { path in
            do { return try PolicyFile.load(path: path) } catch let e as ConfigError {
                FileHandle.standardError.write(Data("vigil incidents: the policy file has problems:\n\(e)\n".utf8))
                throw ExitCode(2)
            }
        }
        let encoding = OTLPEncoding(rawValue: encoding)!
        let env = StreamEnvironment(name: "incidents", parallelism: 1)
        if let state { env.checkpointing = CheckpointConfig(directory: state + "/checkpoints", interval: .milliseconds(checkpointIntervalMs)) }
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
        let incidents = reports.map(name: "incident fields") { RemediationIncident($0) }
        let lines = incidents.map { JSONLines.line(kind: "incident", $0) }
        if let output { lines.writeLines(to: output) } else { lines.print() }
        var dispatcher: ActionDispatcher?
        if let remediation, let state {
            let d = try ActionDispatcher(directory: remediationDir ?? state + "/remediation",
                                         kafka: try KafkaProducer(properties: KafkaProperties(brokers: brokers)).asKafkaAction)
            d.start()
            incidents.remediate(remediation, dispatcher: d)
            dispatcher = d
        }
        _ = try env.execute()
        if let dispatcher {
            while try !dispatcher.drain(timeout: 60) {
                FileHandle.standardError.write(Data("incidents: waiting for remediation actions still running\n".utf8))
            }
            dispatcher.stop()
        }
        let c = IngestCounters.shared
        FileHandle.standardError.write(Data("incidents: \(c.messages.load(ordering: .relaxed)) messages, \(c.deadLetters.load(ordering: .relaxed)) dead letters\n".utf8))
    }
}
