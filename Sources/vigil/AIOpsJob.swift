import AIOps
import ArgumentParser
import Detectors
import Foundation
import Ingest
import RCA
import Remediate
import Stream

/// The options of the built-in AIOps job, shared by `vigil run` and `vigil incidents`.
struct AIOpsJobOptions: ParsableArguments {
    enum Signal: String, CaseIterable, ExpressibleByArgument { case spans, logs, metrics }
    enum Probe: String, CaseIterable, ExpressibleByArgument { case processes, tcp, profiler }

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
    @Option(help: "Write incident JSON lines into this directory (file part-0).") var output: String?
    @Option(help: "State directory: checkpoints (detectors, templates, the knowledge graph, incidents, Kafka offsets).") var state: String?
    @Option(help: "Milliseconds between checkpoints.") var checkpointIntervalMs: Int64 = 10_000
    @Option(help: "First start from this savepoint (its name under STATE, or a checkpoint/savepoint directory); later restarts restore the newest checkpoint.")
    var fromSavepoint: String?
    @Option(name: .customLong("probe"), help: "Also read this host's eBPF signals as evidence (repeatable): processes (abnormal exits), tcp (connect failures, resets), profiler (CPU hotspot shifts). Needs root or CAP_BPF and CAP_PERFMON.")
    var probes: [Probe] = []
    @Flag(help: "Run without a probe that cannot start (no privileges, no BTF) instead of refusing to start.") var probesOptional = false
    @Option(help: "--probe processes: an abnormal exit counts only for a process that ran at least this many seconds.") var probeMinLifetimeSeconds = 10.0
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
        if fromSavepoint != nil && state == nil { throw ValidationError("--from-savepoint needs --state: the job checkpoints on from there") }
    }

    /// The policy file, or exit 2 with its problems.
    func loadPolicies(command: String) throws -> RemediationConfig? {
        try policies.map { path in
            do { return try PolicyFile.load(path: path) } catch let e as ConfigError {
                FileHandle.standardError.write(Data("vigil \(command): the policy file has problems:\n\(e)\n".utf8))
                throw ExitCode(2)
            }
        }
    }
}

/// How a backtest reads the job's topics: a range of record times, through private consumer
/// groups that commit nothing and send no dead letters; every detector verdict kept.
struct ReplayRange {
    /// Record times (ms since 1970); nil: from the earliest record / to the end at the start.
    var from: Int64?
    var to: Int64?
    let group = "vigil-replay-\(UUID().uuidString)"
}

/// The built-in AIOps topology over the Collector's topics: spans → RED metrics → a detector;
/// logs → templates → log anomalies; spans, log events and gauges → the knowledge graph;
/// anomalies → incidents with ranked causes → (optionally) remediation.
struct AIOpsJob {
    let environment: StreamEnvironment
    let incidents: DataStream<RemediationIncident>
    let dispatcher: ActionDispatcher?
    /// Every point the metric detector judged (replays only).
    let scored: DataStream<ScoredPoint>?

    /// `kafkaProperties`: librdkafka settings for every client of the job.
    init(_ o: AIOpsJobOptions, brokers: String, name: String, remediation: RemediationConfig?, kafkaProperties: KafkaProperties = [:],
         replay: ReplayRange? = nil, onAudit: (@Sendable (AuditRecord) -> Void)? = nil) throws {
        let encoding = OTLPEncoding(rawValue: o.encoding)!
        let env = StreamEnvironment(name: name, parallelism: 1)
        if let state = o.state {
            var c = CheckpointConfig(directory: state + "/checkpoints", interval: .milliseconds(o.checkpointIntervalMs))
            c.restore = try SavepointStart.restorePolicy(o.fromSavepoint, root: state + "/checkpoints", command: name)
            env.checkpointing = c
        }
        func options(_ topic: String, _ signal: AIOpsJobOptions.Signal) -> KafkaSourceOptions {
            var k = KafkaSourceOptions(brokers: brokers, topics: [topic], groupID: "\(o.group)-\(signal.rawValue)")
            k.boundedness = o.stopAtEnd ? .untilEndOfPartitions : .unbounded
            k.outOfOrderness = .milliseconds(Int64(o.maxDelayMs))
            k.deadLetterTopic = o.deadLetterTopic
            k.properties = kafkaProperties
            if let replay {
                k.groupID = "\(replay.group)-\(signal.rawValue)"
                k.startingOffsets = replay.from.map { .timestamp($0) } ?? .earliest
                k.boundedness = .untilTimestamp(replay.to ?? .max)
                k.commitsOffsets = false
                k.deadLetterTopic = nil
                k.skipsUndecodable = true
            }
            return k
        }
        var streams: [DataStream<Telemetry>] = []
        for signal in Set(o.signals).sorted(by: { $0.rawValue < $1.rawValue }) {
            switch signal {
            case .spans:
                streams.append(env.kafkaSource(options(o.spansTopic, .spans)) { OTLPSpanDecoder(encoding: encoding) }.map { Telemetry.span(ObservedSpan(span: $0)) })
            case .logs:
                streams.append(env.kafkaSource(options(o.logsTopic, .logs)) { OTLPLogDecoder(encoding: encoding) }.map { Telemetry.log(RawLog(log: $0)) })
            case .metrics:
                streams.append(env.kafkaSource(options(o.metricsTopic, .metrics)) { OTLPMetricDecoder(encoding: encoding) }
                    .process { point, out in if let m = ObservedMetric(point: point) { try out.emit(Telemetry.metric(m)) } })
            }
        }
        let telemetry = streams.dropFirst().reduce(streams[0]) { $0.union($1) }
        let config = AIOpsConfig(
            redWindow: .seconds(Int64(o.windowSeconds)),
            logAnomalies: LogAnomalyConfig(window: .seconds(Int64(o.logWindowSeconds)), warmupWindows: o.warmupWindows),
            rca: RCAConfig(graph: KnowledgeGraphConfig(windowMillis: Int64(o.graphWindowSeconds) * 1000, allowedLatenessMillis: Int64(o.maxDelayMs)),
                           incidents: IncidentConfig(quietMillis: Int64(o.quietSeconds) * 1000)))
        let detector = o.detector
        var host = HostSignals()
        host.processes = o.probes.contains(.processes)
        host.tcp = o.probes.contains(.tcp)
        host.profiler = o.probes.contains(.profiler)
        host.optional = o.probesOptional
        host.window = .seconds(Int64(o.windowSeconds))
        host.minimumLifetimeNanos = UInt64(max(0, o.probeMinLifetimeSeconds) * 1e9)
        let hostAnomalies = host.any ? env.hostAnomalies(host) { REDCommand.detect($0, with: detector) } : nil
        var scored: DataStream<ScoredPoint>?
        incidents = telemetry.incidents(config, hostAnomalies: hostAnomalies) { points in
            let anomalies = REDCommand.detect(points, with: detector, scoring: replay != nil)
            if replay != nil { scored = anomalies.sideOutput(ScoredPoint.all) }
            return anomalies
        }.map(name: "incident fields") { RemediationIncident($0) }
        self.scored = scored
        if let output = o.output { incidents.map { JSONLines.line(kind: "incident", $0) }.writeLines(to: output) }
        if let remediation, let state = o.state {
            let d = try ActionDispatcher(directory: o.remediationDir ?? state + "/remediation",
                                         kafka: try KafkaProducer(properties: KafkaProperties(brokers: brokers).merging(kafkaProperties)).asKafkaAction,
                                         onRecord: onAudit)
            incidents.remediate(remediation, dispatcher: d)
            dispatcher = d
        } else {
            dispatcher = nil
        }
        environment = env
    }

    /// Runs the remaining actions once the job has ended, then stops the dispatcher.
    func finishRemediation(command: String) throws {
        guard let dispatcher else { return }
        while try !dispatcher.drain(timeout: 60) {
            FileHandle.standardError.write(Data("\(command): waiting for remediation actions still running\n".utf8))
        }
        dispatcher.stop()
    }
}
