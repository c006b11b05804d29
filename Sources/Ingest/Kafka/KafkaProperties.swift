import CRdKafka

/// librdkafka configuration properties (`bootstrap.servers`, `group.id`, …), as librdkafka
/// names them (its CONFIGURATION.md). Later settings of a key win.
public struct KafkaProperties: Sendable, ExpressibleByDictionaryLiteral {
    public private(set) var entries: [(key: String, value: String)] = []

    public init(dictionaryLiteral elements: (String, String)...) {
        for (k, v) in elements { self[k] = v }
    }

    public init(brokers: String) { self["bootstrap.servers"] = brokers }

    public subscript(key: String) -> String? {
        get { entries.last(where: { $0.key == key })?.value }
        set {
            entries.removeAll { $0.key == key }
            if let newValue { entries.append((key, newValue)) }
        }
    }

    /// These properties with `other`'s on top.
    public func merging(_ other: KafkaProperties) -> KafkaProperties {
        var merged = self
        for (k, v) in other.entries { merged[k] = v }
        return merged
    }

    /// A new `rd_kafka_conf_t`; a property librdkafka rejects is named in the error.
    public func makeConf() throws -> OpaquePointer {
        let conf = rd_kafka_conf_new()!
        var errstr = [CChar](repeating: 0, count: 512)
        for (k, v) in entries where rd_kafka_conf_set(conf, k, v, &errstr, errstr.count) != RD_KAFKA_CONF_OK {
            rd_kafka_conf_destroy(conf)
            throw KafkaError("Kafka property \(k)=\(v) is rejected: \(String(cString: errstr))")
        }
        return conf
    }
}

/// A topic partition.
public struct TopicPartition: Hashable, Sendable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32
    public init(_ topic: String, _ partition: Int32) {
        self.topic = topic
        self.partition = partition
    }
    public var description: String { "\(topic)[\(partition)]" }
}

extension UnsafeMutablePointer where Pointee == rd_kafka_topic_partition_list_t {
    /// The list's elements, as (element pointer, topic partition).
    var elements: [(UnsafeMutablePointer<rd_kafka_topic_partition_t>, TopicPartition)] {
        (0..<Int(pointee.cnt)).map { i in
            let e = pointee.elems + i
            return (e, TopicPartition(String(cString: e.pointee.topic), e.pointee.partition))
        }
    }

    static func make(_ partitions: some Collection<(TopicPartition, Int64)>) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
        let list = rd_kafka_topic_partition_list_new(Int32(partitions.count))!
        for (tp, offset) in partitions {
            rd_kafka_topic_partition_list_add(list, tp.topic, tp.partition).pointee.offset = offset
        }
        return list
    }
}

/// librdkafka's special offsets (its RD_KAFKA_OFFSET_* macros, which Swift does not import).
public enum KafkaOffset {
    public static let beginning: Int64 = -2
    public static let end: Int64 = -1
    public static let stored: Int64 = -1000
    public static let invalid: Int64 = -1001
    /// RD_KAFKA_PARTITION_UA: let the partitioner choose.
    static let unassignedPartition: Int32 = -1
}
