import CRdKafka
import Stream

/// The few admin operations Vigil needs: create topics, read a small topic to its end.
public enum KafkaAdmin {
    /// Creates topics that do not exist yet (an existing one is not an error).
    public static func createTopics(brokers: String, _ topics: [(name: String, partitions: Int, config: [String: String])],
                                    properties: KafkaProperties = [:], timeoutMs: Int32 = 30_000) throws {
        let producer = try KafkaProducer(properties: KafkaProperties(brokers: brokers).merging(properties))
        let rk = producer.handle
        let existing = try topicNames(rk, timeoutMs: timeoutMs)
        let topics = topics.filter { !existing.contains($0.name) }
        guard !topics.isEmpty else { return }
        var errstr = [CChar](repeating: 0, count: 512)
        var newTopics: [OpaquePointer?] = []
        defer { for t in newTopics { rd_kafka_NewTopic_destroy(t) } }
        for t in topics {
            guard let nt = rd_kafka_NewTopic_new(t.name, Int32(t.partitions), -1, &errstr, errstr.count) else {
                throw KafkaError("cannot create topic \(t.name): \(String(cString: errstr))")
            }
            for (k, v) in t.config { rd_kafka_NewTopic_set_config(nt, k, v) }
            newTopics.append(nt)
        }
        let queue = rd_kafka_queue_new(rk)
        defer { rd_kafka_queue_destroy(queue) }
        newTopics.withUnsafeMutableBufferPointer { rd_kafka_CreateTopics(rk, $0.baseAddress, $0.count, nil, queue) }
        guard let event = rd_kafka_queue_poll(queue, Int32(timeoutMs)) else {
            throw KafkaError("creating topics \(topics.map(\.name)): no answer within \(timeoutMs) ms")
        }
        defer { rd_kafka_event_destroy(event) }
        if rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError("creating topics \(topics.map(\.name))", err: rd_kafka_event_error(event))
        }
        var count = 0
        let results = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count)
        for i in 0..<count {
            let r = results![i]
            let err = rd_kafka_topic_result_error(r)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS {
                throw KafkaError("creating topic \(String(cString: rd_kafka_topic_result_name(r)))", err: err)
            }
        }
    }

    /// The topics the cluster has.
    static func topicNames(_ rk: OpaquePointer, timeoutMs: Int32) throws -> Set<String> {
        var md: UnsafePointer<rd_kafka_metadata>?
        let err = rd_kafka_metadata(rk, 1, nil, &md, timeoutMs)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let md else { throw KafkaError("reading cluster metadata", err: err) }
        defer { rd_kafka_metadata_destroy(md) }
        return Set((0..<Int(md.pointee.topic_cnt)).map { String(cString: md.pointee.topics[$0].topic) })
    }

    /// Every record of partition 0..<partitions of `topic`, in offset order per partition, up
    /// to its current end; with `readCommitted`, only records of committed transactions.
    static func readToEnd(brokers: String, topic: String, partitions: Int32 = 1, readCommitted: Bool,
                          properties: KafkaProperties = [:], timeoutMs: Int = 30_000) throws -> [(key: [UInt8]?, value: [UInt8])] {
        var p = KafkaProperties(brokers: brokers)
        p["group.id"] = "vigil-reader-unused"  // never joined: partitions are assigned by hand
        p["enable.partition.eof"] = "true"
        p["enable.auto.commit"] = "false"
        p["isolation.level"] = readCommitted ? "read_committed" : "read_uncommitted"
        // The end of each partition is what it waits for, and the broker holds a fetch that finds
        // nothing new for up to this long before saying so.
        p["fetch.wait.max.ms"] = "10"
        let conf = try p.merging(properties).makeConf()
        var errstr = [CChar](repeating: 0, count: 512)
        guard let rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, &errstr, errstr.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError("cannot create a Kafka consumer: \(String(cString: errstr))")
        }
        // Never a group member: closing one (the default) waits half a second for nothing.
        defer { rd_kafka_destroy_flags(rk, Int32(RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE)) }
        rd_kafka_poll_set_consumer(rk)
        // Concrete start offsets: a partition assigned at "the beginning" is looked up before it
        // has joined its broker, and the lookup is retried after 500 ms (see `KafkaSplits.concrete`).
        var starts: [(TopicPartition, Int64)] = []
        var ended = Set<Int32>()
        for partition in 0..<partitions {
            var low: Int64 = 0, high: Int64 = 0
            let q = rd_kafka_query_watermark_offsets(rk, topic, partition, &low, &high, Int32(timeoutMs))
            switch q {
            case RD_KAFKA_RESP_ERR_NO_ERROR:
                if low < high { starts.append((TopicPartition(topic, partition), low)) } else { ended.insert(partition) }
            case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
                ended.insert(partition)  // not created yet: empty (the others are still read)
            default:
                throw KafkaError("reading the offsets of \(topic)[\(partition)]", err: q)
            }
        }
        guard !starts.isEmpty else { return [] }
        let list = UnsafeMutablePointer<rd_kafka_topic_partition_list_t>.make(starts)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_assign(rk, list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError("reading \(topic)", err: err) }
        var records: [(key: [UInt8]?, value: [UInt8])] = []
        let deadline = Int(monotonicNanos() / 1_000_000) + timeoutMs
        while ended.count < Int(partitions) {
            guard Int(monotonicNanos() / 1_000_000) < deadline else {
                throw KafkaError("reading \(topic) to its end took longer than \(timeoutMs) ms")
            }
            guard let m = rd_kafka_consumer_poll(rk, 100) else { continue }
            defer { rd_kafka_message_destroy(m) }
            switch m.pointee.err {
            case RD_KAFKA_RESP_ERR_NO_ERROR:
                let key = m.pointee.key.map { Array(UnsafeRawBufferPointer(start: $0, count: m.pointee.key_len)) }
                records.append((key, Array(UnsafeRawBufferPointer(start: m.pointee.payload, count: m.pointee.len))))
            case RD_KAFKA_RESP_ERR__PARTITION_EOF:
                ended.insert(m.pointee.partition)
            case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
                ended.insert(m.pointee.partition)  // gone: what the other partitions hold still counts
            default:
                continue  // transient; librdkafka retries
            }
        }
        return records
    }
}
