import ArgumentParser
import Foundation
import Ingest
import Logging
import Stream

/// `vigil kafka-pipe`: consume → keyed running count → produce, with checkpoints. The job the
/// Kafka exactly-once test kills; also a small example of a Kafka-to-Kafka topology.
struct KafkaPipeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kafka-pipe",
        abstract: "Reads \"SEQ KEY\" records from Kafka, counts per key, writes \"key=K seq=S count=C\" to Kafka.",
        discussion: """
            Input values are "SEQ KEY" text; anything else goes to the dead-letter topic. Each \
            output record carries the running count of its key, kept in checkpointed keyed state. \
            With --guarantee exactly-once, output is committed in Kafka transactions when \
            checkpoints complete; read it with isolation.level=read_committed.
            """
    )

    @Option(help: "Kafka bootstrap servers.") var brokers: String
    @Option(help: "Input topic.") var input: String
    @Option(help: "Output topic.") var output: String
    @Option(help: "Consumer group id.") var group = "vigil-kafka-pipe"
    @Option(help: "This process's name among those of the group: keeps transactional ids apart (stable across restarts).") var instance = "0"
    @Option(help: "State directory (checkpoints, staged output).") var state: String
    @Option(help: "Milliseconds between checkpoints.") var intervalMs: Int64 = 500
    @Option(help: "at-least-once or exactly-once.") var guarantee = "exactly-once"
    @Option(help: "Parallelism (Kafka source members, keyed operator, sink).") var parallelism = 2
    @Option(help: "Dead-letter topic for undecodable input.") var deadLetterTopic = "vigil_dead_letters"
    @Flag(help: "Stop once every assigned partition is read to its end.") var stopAtEnd = false
    @Option(help: "Extra librdkafka consumer property KEY=VALUE (repeatable).") var consumerProperty: [String] = []

    func validate() throws {
        guard ["at-least-once", "exactly-once"].contains(guarantee) else {
            throw ValidationError("--guarantee must be at-least-once or exactly-once, got '\(guarantee)'")
        }
        guard (1...64).contains(parallelism) else { throw ValidationError("--parallelism must be within 1...64, got \(parallelism)") }
        guard intervalMs > 0 else { throw ValidationError("--interval-ms must be positive, got \(intervalMs)") }
        _ = try parsedProperties()
    }

    func parsedProperties() throws -> KafkaProperties { try KafkaProperties(consumerProperties: consumerProperty) }

    struct Numbered: Sendable {
        var seq: Int64
        var key: String
    }

    struct Counted: Sendable {
        var key: String
        var line: String
    }

    struct NumberedDecoder: KafkaMessageDecoder {
        struct Malformed: Error, CustomStringConvertible {
            var description: String
        }
        mutating func decode(_ m: KafkaMessage, emit: (Numbered, Timestamp) throws -> Void) throws {
            let text = String(decoding: m.value, as: UTF8.self)
            let f = text.split(separator: " ")
            guard f.count == 2, let seq = Int64(f[0]), !f[1].isEmpty else {
                throw Malformed(description: "expected \"SEQ KEY\", got \(text.prefix(60).debugDescription)")
            }
            try emit(Numbered(seq: seq, key: String(f[1])), m.timestamp ?? 0)
        }
    }

    func run() throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        let env = StreamEnvironment(name: "kafka-pipe", parallelism: parallelism)
        env.checkpointing = CheckpointConfig(directory: state + "/checkpoints", interval: .milliseconds(intervalMs))
        var source = KafkaSourceOptions(brokers: brokers, topics: [input], groupID: group)
        source.boundedness = stopAtEnd ? .untilEndOfPartitions : .unbounded
        source.deadLetterTopic = deadLetterTopic
        source.properties = try parsedProperties()
        var sink = KafkaSinkOptions(brokers: brokers, topic: output, transactionalIDPrefix: "vigil-pipe-\(group)-\(instance)")
        sink.guarantee = guarantee == "exactly-once" ? .exactlyOnce : .atLeastOnce
        sink.stagingDirectory = state + "/kafka-staging"
        env.kafkaSource(source, name: "input") { NumberedDecoder() }
            .keyBy(\.key)
            .process(name: "running count") { (r: Numbered, ctx: KeyedContext<String, Counted>) in
                let count = try ctx.valueState("count", Int.self)
                let n = (count.value ?? 0) + 1
                count.update(n)
                try ctx.emit(Counted(key: r.key, line: "key=\(r.key) seq=\(r.seq) count=\(n)"))
            }
            // Keyed by the input's key: each key's output stays in order in one partition.
            .sinkToKafka(sink, name: "output") { KafkaOutputRecord(key: Array($0.key.utf8), value: Array($0.line.utf8)) }
        let job = try env.start()
        _ = try job.wait()
        print("done: \(job.completedCheckpoints.count) checkpoints, \(IngestCounters.shared.messages.load(ordering: .relaxed)) messages, \(IngestCounters.shared.deadLetters.load(ordering: .relaxed)) dead letters")
    }
}

extension KafkaProperties {
    /// `--consumer-property KEY=VALUE` options.
    init(consumerProperties list: [String]) throws {
        self = [:]
        for kv in list {
            guard let eq = kv.firstIndex(of: "="), eq != kv.startIndex else {
                throw ValidationError("--consumer-property '\(kv)': expected KEY=VALUE")
            }
            self[String(kv[..<eq])] = String(kv[kv.index(after: eq)...])
        }
    }
}
