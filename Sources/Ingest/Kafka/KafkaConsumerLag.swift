import CRdKafka
import Synchronization

/// How far each Kafka source partition is behind the end of its partition, as its reader last
/// saw it: for the engine's /metrics. The end is librdkafka's cached high watermark (from
/// fetch responses), so reading it costs no request.
public final class KafkaConsumerLag: Sendable {
    public static let shared = KafkaConsumerLag()

    public struct Partition: Sendable, Equatable {
        public var group: String
        public var topic: String
        public var partition: Int32
        /// Next offset the source reads.
        public var position: Int64
        /// The partition's end: the offset its next message will get.
        public var end: Int64
        public var lag: Int64 { max(0, end - position) }
    }

    private let entries = Mutex<[String: [TopicPartition: Partition]]>([:])

    public var partitions: [Partition] {
        entries.withLock { $0.values.flatMap(\.values) }.sorted { ($0.group, $0.topic, $0.partition) < ($1.group, $1.topic, $1.partition) }
    }

    func update(group: String, _ owned: [Partition]) {
        entries.withLock { $0[group] = Dictionary(owned.map { (TopicPartition($0.topic, $0.partition), $0) }, uniquingKeysWith: { a, _ in a }) }
    }

    func remove(group: String, _ partitions: [TopicPartition]) {
        entries.withLock { all in for tp in partitions { all[group]?[tp] = nil } }
    }
}
