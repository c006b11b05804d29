import CRdKafka
import Foundation

extension KafkaConsumer {
    /// The first offset of each partition whose record timestamp is at or after `timestampMs`,
    /// or the partition's end where no record is that late: a concrete offset either way.
    ///
    /// Asks the brokers' time index first (ListOffsets). A broker without one answers "no
    /// such record" whatever the time (librdkafka's mock cluster, topics in message format
    /// v0); when the partition's last record says otherwise, the offset is found by reading
    /// timestamps, a binary search that assumes they grow with offsets (as the brokers' own
    /// index does).
    func offsetsAtOrAfter(_ partitions: [TopicPartition], timestampMs: Int64, probeProperties: KafkaProperties) throws -> [Int64] {
        let indexed = try offsetsForTimes(partitions, timestampMs: timestampMs)
        let marks = try watermarks(partitions)
        var probe: TimestampProbe?
        return try partitions.indices.map { i in
            if indexed[i] >= 0 { return indexed[i] }
            let (low, high) = marks[i]
            guard high > low else { return high }
            if probe == nil { probe = try TimestampProbe(properties: probeProperties) }
            return try probe!.firstOffset(partitions[i], atOrAfter: timestampMs, low: low, high: high)
        }
    }
}

/// Reads single records by offset to learn their timestamps, for brokers that cannot look
/// offsets up by time. A consumer outside any group: it assigns itself the partition.
final class TimestampProbe {
    private let consumer: KafkaConsumer
    private let timeoutMs: Int32

    init(properties: KafkaProperties, timeoutMs: Int32 = 10_000) throws {
        var p = properties
        p["group.id"] = "vigil-timestamp-probe-\(UUID().uuidString)"
        p["enable.partition.eof"] = "true"
        p["fetch.wait.max.ms"] = "5"
        consumer = try KafkaConsumer(properties: p)
        self.timeoutMs = timeoutMs
    }

    /// The first offset in low..<high whose timestamp is at or after `t`; `high` when the
    /// last record is earlier.
    func firstOffset(_ tp: TopicPartition, atOrAfter t: Int64, low: Int64, high: Int64) throws -> Int64 {
        // `candidate`: the least offset known to be at or after `t`; the answer is it or lies in lo..<end.
        guard let last = try record(tp, atOrAfter: high - 1), last.timestamp >= t else { return high }
        var candidate = last.offset
        var lo = low, end = high - 1
        while lo < end {
            let mid = lo + (end - lo) / 2
            // The first record at or after `mid` (offsets may be missing: compaction, transaction markers).
            guard let r = try record(tp, atOrAfter: mid), r.offset < end else { end = mid; continue }
            if r.timestamp >= t {
                candidate = r.offset
                end = mid
            } else {
                lo = r.offset + 1
            }
        }
        return candidate
    }

    /// The first record of `tp` at or after `offset`, or nil at the partition's end.
    private func record(_ tp: TopicPartition, atOrAfter offset: Int64) throws -> (offset: Int64, timestamp: Int64)? {
        try consumer.assign([(tp, offset)])
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(timeoutMs) * 1_000_000
        while DispatchTime.now().uptimeNanoseconds < deadline {
            guard let m = try consumer.poll(timeoutMs: 100) else { continue }
            defer { rd_kafka_message_destroy(m) }
            let msg = m.pointee
            // Anything fetched for an earlier probe is stale.
            guard msg.partition == tp.partition, msg.offset >= offset else { continue }
            if msg.err == RD_KAFKA_RESP_ERR__PARTITION_EOF { return nil }
            guard msg.err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError("reading \(tp)@\(offset) for its timestamp", err: msg.err) }
            var type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
            let ts = rd_kafka_message_timestamp(m, &type)
            guard type != RD_KAFKA_TIMESTAMP_NOT_AVAILABLE else { throw KafkaError("\(tp)@\(msg.offset) has no timestamp: its range cannot be found by time") }
            return (msg.offset, ts)
        }
        throw KafkaError("no answer reading \(tp)@\(offset) for its timestamp within \(timeoutMs) ms")
    }
}
