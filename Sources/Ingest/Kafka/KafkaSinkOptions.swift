import Stream

/// One record for Kafka: an optional key (which also picks the partition), a value, and
/// optionally an explicit partition.
public struct KafkaOutputRecord: Sendable {
    public var key: [UInt8]?
    public var value: [UInt8]
    public var partition: Int32?
    public init(key: [UInt8]? = nil, value: [UInt8], partition: Int32? = nil) {
        self.key = key
        self.value = value
        self.partition = partition
    }
}

/// How a Kafka sink writes.
public struct KafkaSinkOptions: Sendable {
    public enum Guarantee: Sendable, Equatable {
        /// Idempotent producer; everything is delivered before a checkpoint completes, so a
        /// restart may write records again but never loses one.
        case atLeastOnce
        /// Output committed in Kafka transactions, one per completed checkpoint: readers with
        /// `isolation.level=read_committed` see each record exactly once.
        case exactlyOnce
    }

    public var brokers: String
    public var topic: String
    public var guarantee: Guarantee = .atLeastOnce
    /// Transactional ids are `<prefix>-<subtask>`; unique per job and sink, stable across
    /// restarts (a restart fences the previous run's producers by them).
    public var transactionalIDPrefix: String
    /// A local directory where each checkpoint's output waits, durable, until the checkpoint
    /// completes and it is committed to Kafka (exactly-once only). Keep it next to the
    /// checkpoints: it is part of the job's state.
    public var stagingDirectory: String?
    /// A single-partition, compacted topic where each transaction also records which
    /// checkpoint it committed, so a restart knows which staged output is already in Kafka.
    public var markersTopic = KafkaSinkOptions.defaultMarkersTopic
    public static let defaultMarkersTopic = "vigil_transaction_markers"
    public var properties: KafkaProperties = [:]

    public init(brokers: String, topic: String, transactionalIDPrefix: String? = nil) {
        self.brokers = brokers
        self.topic = topic
        self.transactionalIDPrefix = transactionalIDPrefix ?? "vigil-\(topic)"
    }

    var producerProperties: KafkaProperties { KafkaProperties(brokers: brokers).merging(properties) }
}
