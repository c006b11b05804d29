import CRdKafka
import Stream

/// Reads one partition of a changelog topic from an offset to its end, and finds the last
/// commit there and its state bundle.
///
/// A commit is: chunks (key `chunk/<i>`), then its marker (key `commit`, value the
/// `PartitionProgress`), all with header `vigil.txn: <transaction>`, in one Kafka transaction.
/// The marker is produced only once every chunk and output record is on the brokers, so a
/// visible marker means its whole commit is there. That is what counts as committed here,
/// rather than the transaction's outcome alone: librdkafka's mock cluster shows the records of
/// aborted and abandoned transactions to read_committed readers, where real Kafka hides them.
/// Either way, a marker's chunks are the ones that carry its transaction.
///
/// Owners: a process that takes the partition first writes a claim (key `claim`, value its
/// epoch, a random number) and only then reads. A marker counts only if its epoch is that of
/// the latest claim before it: a zombie (an old owner whose session expired, still running)
/// that commits after the new owner's claim commits nothing. Real Kafka also fences it by the
/// transactional id; librdkafka's mock cluster does not, so the claim is what keeps it out
/// there (`ScaleOutChangelogTests`).
struct ChangelogReader {
    struct Commit {
        var progress: PartitionProgress
        var bundle: [UInt8]
        /// The marker's offset in the changelog.
        var offset: Int64
    }

    let properties: KafkaProperties
    let topic: String
    let partition: Int32

    /// The last valid commit at or after `from`, or nil if there is none there. `epoch`: the
    /// owner's epoch current at `from` (0 when reading from the beginning).
    func lastCommit(from: Int64, epoch: UInt64 = 0, timeoutMs: Int = 60_000) throws -> Commit? {
        try read(from: from, epoch: epoch, timeoutMs: timeoutMs).commit
    }

    /// `lastCommit`, and the partition's end when the read began: an owner that has just
    /// claimed the partition can start its next restore's read there (its claim is before it),
    /// without asking the brokers again.
    func read(from: Int64, epoch: UInt64 = 0, timeoutMs: Int = 60_000) throws -> (commit: Commit?, end: Int64) {
        var p = properties
        p["group.id"] = "vigil-changelog-reader"  // never joined: the partition is assigned
        p["enable.partition.eof"] = "true"
        p["enable.auto.commit"] = "false"
        p["isolation.level"] = "read_committed"
        // The end of the partition is what it waits for: no long fetches, no long back-offs.
        p["fetch.wait.max.ms"] = "10"
        p["fetch.error.backoff.ms"] = "10"
        p["auto.offset.reset"] = "error"  // a start the topic no longer holds is an error, not a skip
        let conf = try p.makeConf()
        var errstr = [CChar](repeating: 0, count: 512)
        guard let rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, &errstr, errstr.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError("cannot create a changelog reader: \(String(cString: errstr))")
        }
        // Never a group member: closing one (the default) waits half a second for nothing.
        defer { rd_kafka_destroy_flags(rk, Int32(RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE)) }
        rd_kafka_poll_set_consumer(rk)
        // A concrete start offset: resolving "the beginning" first costs a 500 ms back-off.
        var low: Int64 = 0, high: Int64 = 0
        let q = rd_kafka_query_watermark_offsets(rk, topic, partition, &low, &high, Int32(timeoutMs))
        if q == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || q == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC || q == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION { return (nil, 0) }
        guard q == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError("reading the offsets of \(topic)[\(partition)]", err: q) }
        if from > KafkaOffset.beginning && from < low {
            throw KafkaError("the changelog \(topic)[\(partition)] no longer holds offset \(from) (it starts at \(low))")
        }
        let start = max(from, low)
        if start >= high { return (nil, high) }  // nothing there
        let list = UnsafeMutablePointer<rd_kafka_topic_partition_list_t>.make([(TopicPartition(topic, partition), start)])
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_assign(rk, list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError("reading \(topic)[\(partition)]", err: err) }

        var chunksByTransaction: [String: [Int: [UInt8]]] = [:]
        var currentEpoch = epoch
        var last: (progress: PartitionProgress, offset: Int64)?
        let deadline = monotonicNanos() + UInt64(timeoutMs) * 1_000_000
        while true {
            guard monotonicNanos() < deadline else { throw KafkaError("reading the changelog \(topic)[\(partition)] took longer than \(timeoutMs) ms") }
            guard let m = rd_kafka_consumer_poll(rk, 100) else { continue }
            defer { rd_kafka_message_destroy(m) }
            let msg = m.pointee
            if msg.err == RD_KAFKA_RESP_ERR__PARTITION_EOF { break }
            if msg.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || msg.err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC { break }
            if msg.err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE || msg.err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET {
                throw KafkaError("the changelog \(topic)[\(partition)] no longer holds offset \(from)")
            }
            guard msg.err == RD_KAFKA_RESP_ERR_NO_ERROR else { continue }  // transient; librdkafka retries
            guard let keyPtr = msg.key else { continue }
            let key = String(decoding: UnsafeRawBufferPointer(start: keyPtr, count: msg.key_len), as: UTF8.self)
            let value = Array(UnsafeRawBufferPointer(start: msg.payload, count: msg.len))
            if key == "claim" {
                var r = StateReader(value)
                currentEpoch = try r.read()
                continue
            }
            guard let transaction = header(m, "vigil.txn") else { continue }
            if key == "commit" {
                let progress = try PartitionProgress.decode(value)
                guard progress.epoch == currentEpoch else { continue }  // a zombie's
                last = (progress, msg.offset)
                // Chunks of earlier transactions are not needed any more.
                chunksByTransaction = chunksByTransaction.filter { $0.key == transaction }
            } else if key.hasPrefix("chunk/"), let i = Int(key.dropFirst("chunk/".count)) {
                chunksByTransaction[transaction, default: [:]][i] = value
            }
        }
        guard let last else { return (nil, high) }
        let chunks = chunksByTransaction[last.progress.transaction] ?? [:]
        var bundle: [UInt8] = []
        for i in 0..<last.progress.chunks {
            guard let c = chunks[i] else {
                throw KafkaError("the changelog \(topic)[\(partition)] lacks chunk \(i) of commit \(last.progress.transaction) (the topic lost records?)")
            }
            bundle += c
        }
        guard CRC32C.checksum(bundle) == last.progress.bundleChecksum else {
            throw KafkaError("the state of commit \(last.progress.transaction) in \(topic)[\(partition)] fails its checksum")
        }
        return (Commit(progress: last.progress, bundle: bundle, offset: last.offset), high)
    }
}

/// A header's value as text, if the message has it.
func header(_ m: UnsafeMutablePointer<rd_kafka_message_t>, _ name: String) -> String? {
    var headers: OpaquePointer?
    guard rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR, let headers else { return nil }
    var value: UnsafeRawPointer?
    var size = 0
    guard rd_kafka_header_get_last(headers, name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR, let value else { return nil }
    return String(decoding: UnsafeRawBufferPointer(start: value, count: size), as: UTF8.self)
}
