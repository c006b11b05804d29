import CRdKafka
import Foundation

/// The messages of some topics between two record times: what a replay will read, counted
/// before it starts so that its progress can be shown.
public enum KafkaTopicRange {
    /// Messages per partition from the first at or after `from` (nil: the earliest) up to the
    /// first at or after `to` (nil: the end now).
    public static func messageCount(brokers: String, topics: [String], from: Int64?, to: Int64?,
                                    properties: KafkaProperties = [:]) throws -> [TopicPartition: Int64] {
        var props = KafkaProperties(brokers: brokers).merging(properties)
        props["group.id"] = "vigil-range-\(UUID().uuidString)"
        let consumer = try KafkaConsumer(properties: props)
        let partitions = try partitionsOf(topics, consumer.handle)
        let marks = try consumer.watermarks(partitions)
        let starts = try from.map { try consumer.offsetsAtOrAfter(partitions, timestampMs: $0, probeProperties: props) } ?? marks.map(\.low)
        let ends = try to.map { try consumer.offsetsAtOrAfter(partitions, timestampMs: $0, probeProperties: props) } ?? marks.map(\.high)
        var counts: [TopicPartition: Int64] = [:]
        for (i, tp) in partitions.enumerated() { counts[tp] = max(0, ends[i] - starts[i]) }
        return counts
    }

    /// Every partition of the topics; a topic the cluster does not have is an error.
    static func partitionsOf(_ topics: [String], _ rk: OpaquePointer, timeoutMs: Int32 = 10_000) throws -> [TopicPartition] {
        var md: UnsafePointer<rd_kafka_metadata>?
        let err = rd_kafka_metadata(rk, 1, nil, &md, timeoutMs)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let md else { throw KafkaError("reading the cluster's metadata", err: err) }
        defer { rd_kafka_metadata_destroy(md) }
        var found: [String: Int32] = [:]
        for i in 0..<Int(md.pointee.topic_cnt) {
            let t = md.pointee.topics[i]
            if t.err == RD_KAFKA_RESP_ERR_NO_ERROR { found[String(cString: t.topic)] = t.partition_cnt }
        }
        return try topics.flatMap { topic -> [TopicPartition] in
            guard let n = found[topic] else { throw KafkaError("the cluster has no topic '\(topic)'") }
            return (0..<n).map { TopicPartition(topic, $0) }
        }
    }
}
