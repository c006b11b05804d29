import Logging
import Synchronization

/// Where messages that cannot be decoded go, intact, with headers saying where they came
/// from and why they failed: `vigil.source.topic`, `vigil.source.partition`,
/// `vigil.source.offset`, `vigil.error`. Delivery is at least once: flushed before every
/// checkpoint, so no dead letter is lost with the offsets that skipped it.
final class DeadLetterQueue: @unchecked Sendable {
    let topic: String
    private let producer: KafkaProducer
    private let logger: Logger

    init(topic: String, properties: KafkaProperties, logger: Logger) throws {
        self.topic = topic
        // The consumer's connection and logging settings; none of its consumer-only ones.
        var p = KafkaProperties(brokers: properties["bootstrap.servers"] ?? "")
        for (k, v) in properties.entries where k.hasPrefix("security.") || k.hasPrefix("sasl.") || k.hasPrefix("ssl.") || k == "log_level" { p[k] = v }
        self.producer = try KafkaProducer(properties: p)
        self.logger = logger
    }

    func send(_ message: KafkaMessage, error: any Error) throws {
        IngestCounters.shared.deadLetters.add(1, ordering: .relaxed)
        let reason = "\(error)"
        logger.warning("dead letter: \(message.topic)[\(message.partition)]@\(message.offset): \(reason)")
        try producer.produce(topic: topic, key: message.key, value: message.value, headers: [
            ("vigil.source.topic", Array(message.topic.utf8)),
            ("vigil.source.partition", Array(String(message.partition).utf8)),
            ("vigil.source.offset", Array(String(message.offset).utf8)),
            ("vigil.error", Array(reason.utf8)),
        ])
        producer.poll()
    }

    func flush() throws { try producer.flush() }
}

/// Process-wide ingest counters, for the CLI's summaries and the engine's own metrics.
public final class IngestCounters: Sendable {
    public static let shared = IngestCounters()
    public let messages = Atomic<Int>(0)
    public let bytes = Atomic<Int>(0)
    public let deadLetters = Atomic<Int>(0)
    /// Undecodable messages skipped by sources that send no dead letters (replays).
    public let skipped = Atomic<Int>(0)
}
