import ArgumentParser
import Foundation
import Ingest
import Logging
import Remediate
import Stream

/// `vigil remediate`: remediation policies over a stream of incidents (the JSON lines of
/// `vigil incidents`, from a file or a Kafka topic), with actions that run exactly once:
/// decided in checkpointed state, executed only after the checkpoint that recorded them.
struct RemediateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remediate",
        abstract: "Runs remediation policies over incidents: webhooks, programs, Kafka messages, each once.",
        discussion: """
            Input: incident JSON lines as `vigil incidents` prints them, from --incidents FILE or \
            from --brokers/--topic. Every decision and every action's outcome is appended to \
            DIR/audit.jsonl (read it with `vigil audit --dir DIR`); actions of policies with an \
            approval wait for `vigil approve ID --dir DIR`. Killed and started again with the same \
            --state and --dir, the job neither loses an action nor runs an exec action twice. \
            SIGTERM or SIGINT takes a final checkpoint, runs the actions it released, and exits.
            """
    )

    @Option(help: "Remediation policy file (YAML; see docs/remediation.md).") var policies: String
    @Option(help: "Remediation directory: outbox, audit log, approvals.") var dir: String
    @Option(help: "State directory (checkpoints of the policy engine and the input position).") var state: String
    @Option(help: "First start from this savepoint (its name under STATE, or a checkpoint/savepoint directory); later restarts restore the newest checkpoint.")
    var fromSavepoint: String?
    @Option(help: "Incidents from this file of JSON lines.") var incidents: String?
    @Option(help: "Kafka bootstrap servers: incidents from --topic, and the producer of kafka actions.") var brokers: String?
    @Option(help: "Topic of incident JSON lines.") var topic = "vigil_incidents"
    @Option(help: "Consumer group id.") var group = "vigil-remediate"
    @Option(help: "Dead-letter topic for messages that are not incidents (Kafka input).") var deadLetterTopic = "vigil_dead_letters"
    @Option(help: "Extra librdkafka consumer property KEY=VALUE (repeatable).") var consumerProperty: [String] = []
    @Flag(help: "Stop at the end of the input (the file's end, or every partition's) once its actions ran.") var stopAtEnd = false
    @Option(help: "Milliseconds between checkpoints: the longest an action waits to run.") var checkpointIntervalMs: Int64 = 1000

    func validate() throws {
        guard incidents != nil || brokers != nil else {
            throw ValidationError("give the incidents: --incidents FILE, or --brokers HOST:PORT (and --topic)")
        }
        guard checkpointIntervalMs > 0 else { throw ValidationError("--checkpoint-interval-ms must be positive, got \(checkpointIntervalMs)") }
    }

    func run() throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        let config: RemediationConfig
        do { config = try PolicyFile.load(path: policies) } catch let e as ConfigError {
            FileHandle.standardError.write(Data("vigil remediate: the policy file has problems:\n\(e)\n".utf8))
            throw ExitCode(2)
        }
        let producer = try brokers.map { try KafkaProducer(properties: KafkaProperties(brokers: $0)) }
        let dispatcher = try ActionDispatcher(directory: dir, kafka: producer?.asKafkaAction)
        dispatcher.start()

        let env = StreamEnvironment(name: "remediate", parallelism: 1)
        var checkpoints = CheckpointConfig(directory: state, interval: .milliseconds(checkpointIntervalMs))
        checkpoints.restore = try SavepointStart.restorePolicy(fromSavepoint, root: state, command: "remediate")
        env.checkpointing = checkpoints
        let input: DataStream<RemediationIncident>
        if let incidents {
            let malformed = OutputTag<String>("not incidents")
            let parsed = env.readLines(incidents, name: "incidents file", parallelism: 1)
                .process(name: "parse") { (line: String, ctx: ProcessContext<RemediationIncident>) in
                    guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { return }
                    do { try ctx.emit(try RemediationIncident.decode(jsonLine: line)) } catch {
                        try ctx.output(malformed, "\(error): \(line.prefix(200))")
                    }
                }
            // A line that is no incident loses nothing: it is kept, with the reason, exactly once.
            parsed.sideOutput(malformed).writeLinesExactlyOnce(to: dir + "/dead-letters", name: "dead letters")
            input = parsed
        } else {
            var source = KafkaSourceOptions(brokers: brokers!, topics: [topic], groupID: group)
            source.boundedness = stopAtEnd ? .untilEndOfPartitions : .unbounded
            source.deadLetterTopic = deadLetterTopic
            source.properties = try KafkaProperties(consumerProperties: consumerProperty)
            input = env.kafkaSource(source, name: "incidents topic") { IncidentDecoder() }
        }
        input.remediate(config, dispatcher: dispatcher)

        let job = try env.start()
        let stop = GracefulStop(job, command: "remediate", checkpointing: true, stateDirectory: state)
        _ = try job.wait()
        // Bounded input: the final checkpoint has made the last decisions ready; run them.
        while try !dispatcher.drain(timeout: 60) {
            FileHandle.standardError.write(Data("remediate: waiting for actions still running\n".utf8))
        }
        dispatcher.stop()
        withExtendedLifetime(stop) {}
        let c = dispatcher.counted
        FileHandle.standardError.write(Data(("remediate: \(c.executed) executed, \(c.failed) failed, \(c.interrupted) interrupted, "
            + "\(c.suppressed) suppressed, \(c.dryRun) dry-run, \(c.awaitingApproval) awaiting approval in this run\n").utf8))
    }

    struct IncidentDecoder: KafkaMessageDecoder {
        mutating func decode(_ m: KafkaMessage, emit: (RemediationIncident, Timestamp) throws -> Void) throws {
            let text = String(decoding: m.value, as: UTF8.self)
            try emit(try RemediationIncident.decode(jsonLine: text), m.timestamp ?? 0)
        }
    }
}

extension KafkaProducer {
    /// Kafka remediation actions through this (idempotent) producer, with the idempotency key
    /// as a header; each waits for its delivery, so the audit log says delivered only when it was.
    var asKafkaAction: @Sendable (PlannedAction.Kafka, String) throws -> Void {
        { [self] k, key in
            try produce(topic: k.topic, key: Array(k.key.utf8), value: Array(k.value.utf8), headers: [("Idempotency-Key", Array(key.utf8))])
            try flush(timeoutMs: 10_000)
        }
    }
}
