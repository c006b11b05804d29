import CRdKafka
import Logging
import Stream

/// A Kafka source subtask: one consumer group member. The group decides which partitions it
/// reads; each partition is a split with its own position and watermark. Positions are part
/// of every checkpoint and committed to the group only once that checkpoint completes, so
/// the group's offsets never run ahead of what the job has made durable.
///
/// Where a newly assigned partition starts: at the later of the restored checkpoint's
/// position and the group's committed offset (a committed offset ahead of the checkpoint
/// means another member processed and committed that far); with neither, at the configured
/// starting offsets.
public struct KafkaSourceReader<Decoder: KafkaMessageDecoder>: CheckpointableReader {
    public typealias Record = Decoder.Output
    private var decoder: Decoder
    private let splits: KafkaSplits
    private let consumer: KafkaConsumer
    private let deadLetters: DeadLetterQueue?
    private let options: KafkaSourceOptions
    private let logger: Logger

    public init(options: KafkaSourceOptions, decoder: Decoder, subtask: Int = 0,
                logger: Logger = Logger(label: "vigil.kafka.source")) throws {
        self.options = options
        self.decoder = decoder
        self.logger = logger
        var props = options.consumerProperties
        if props["client.id"] == nil { props["client.id"] = "vigil-\(options.groupID)-\(subtask)" }
        consumer = try KafkaConsumer(properties: props, logger: logger)
        splits = KafkaSplits(options: options, logger: logger)
        splits.consumer = consumer
        consumer.rebalanceHandler = splits
        deadLetters = try options.deadLetterTopic.map { try DeadLetterQueue(topic: $0, properties: props, logger: logger) }
        try consumer.subscribe(options.topics)
    }

    public static var restoresFromAllSplits: Bool { true }

    /// The partitions this subtask reads now.
    public var assignedPartitions: Set<TopicPartition> { consumer.assignment }

    public mutating func read(into context: SourceContext<Record>, limit: Int) throws -> SourceReadResult {
        var emitted = 0
        var consumed = 0
        var bytes = 0
        var timeout: Int32 = 0
        defer {
            IngestCounters.shared.messages.add(consumed, ordering: .relaxed)
            IngestCounters.shared.bytes.add(bytes, ordering: .relaxed)
        }
        if let failure = splits.failure { throw failure }
        while emitted < limit {
            guard let m = try consumer.poll(timeoutMs: timeout) else {
                if consumed == 0 && timeout == 0 { timeout = 10; continue }  // wait a little, once
                break
            }
            defer { rd_kafka_message_destroy(m) }
            let msg = m.pointee
            guard msg.err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                try splits.handleEvent(msg)
                continue
            }
            let slot = splits.slot(rkt: msg.rkt, partition: msg.partition)
            if splits.isPastStop(slot: slot, offset: msg.offset) { continue }
            consumed += 1
            bytes += msg.len
            var tsType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
            let ts = rd_kafka_message_timestamp(m, &tsType)
            let message = KafkaMessage(
                topic: splits.topicName(msg.rkt), partition: msg.partition, offset: msg.offset,
                timestamp: tsType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : ts,
                key: msg.key.map { UnsafeRawBufferPointer(start: $0, count: msg.key_len) },
                value: UnsafeRawBufferPointer(start: msg.payload, count: msg.len))
            var maxTs = Timestamp.min
            var downstream: (any Error)?
            do {
                try decoder.decode(message) { record, t in
                    if t > maxTs { maxTs = t }
                    do { try context.emit(record, timestamp: t) } catch { downstream = error; throw error }
                    emitted &+= 1
                }
            } catch {
                if let downstream { throw downstream }
                guard let deadLetters else {
                    if options.skipsUndecodable {
                        IngestCounters.shared.skipped.add(1, ordering: .relaxed)
                        splits.consumed(slot: slot, offset: msg.offset, maxTimestamp: maxTs)
                        continue
                    }
                    throw KafkaError("cannot decode \(message.topic)[\(message.partition)]@\(message.offset) and no dead-letter topic is configured: \(error)")
                }
                try deadLetters.send(message, error: error)
            }
            splits.consumed(slot: slot, offset: msg.offset, maxTimestamp: maxTs)
        }
        if !splits.toPause.isEmpty { consumer.pause(splits.takePartitionsToPause()) }
        splits.reportLag()
        if let wm = splits.watermark() { context.emitWatermark(wm) }
        if consumed > 0 { return .more }
        guard splits.allAtEnd else { return .nothingAvailable }
        // A finished source's dead letters are delivered now, as a checkpoint would, not left
        // to the producer's deinit (which waits 2 s and reports nothing): a job without
        // checkpoints may exit right after this.
        try deadLetters?.flush()
        // Leave the group now: a member that stops polling would hold up every rebalance.
        consumer.close()
        return .finished
    }

    public func snapshotPosition(into writer: inout StateWriter) {
        splits.writePositions(into: &writer)
    }

    public func snapshotPosition(checkpointID: Int64, into writer: inout StateWriter) throws {
        // Dead letters of the records this checkpoint covers must be delivered before it can
        // complete; otherwise a crash would lose them with the offsets that skipped them.
        try deadLetters?.flush()
        splits.remember(checkpointID: checkpointID)
        splits.writePositions(into: &writer)
    }

    public mutating func restorePosition(from reader: inout StateReader) throws {
        try splits.restorePositions(from: &reader)
    }

    public mutating func checkpointComplete(_ id: Int64) throws {
        guard options.commitsOffsets, let offsets = splits.offsetsToCommit(upTo: id) else { return }
        // The group's offsets are where a job without a checkpoint (or another member)
        // starts; the checkpoint itself holds the positions a restore uses. So a failed commit
        // (a rebalance in progress, a closed consumer) is worth a warning, not the job.
        do {
            try consumer.commit(offsets, async: true)
        } catch {
            logger.warning("offsets of checkpoint \(id) not committed to the group: \(error)")
        }
    }
}
