import CRdKafka
import Foundation
import Logging
import Stream

/// The input stage of a scaled-out job: a member of the input topic's group that decodes
/// records, keys them, and writes each to the repartition partition that owns its key group,
/// batched per (input partition, repartition partition), with the input partition's watermark.
///
/// At least once: records are delivered (producer flushed) before their offsets are committed,
/// so a member that dies makes its successor read and write some records again. The stateful
/// stage drops those by their input place (`RepartitionBatch.Place`). No Kafka transaction is
/// needed here, and none is held open across processes.
final class ShuffleStage<Decoder: KafkaMessageDecoder, Key: StreamKey>: RebalanceHandler where Decoder.Output: StateCodable {
    typealias Record = Decoder.Output
    private struct InputSplit {
        var nextOffset: Int64 = KafkaOffset.invalid
        var maxTime = Timestamp.min
        var lastRecordNanos: UInt64
        /// What each repartition partition was last told of this partition's event time.
        var reported: [(watermark: Timestamp, idle: Bool)]
        /// Records waiting to be written, per repartition partition.
        var pending: [[(place: RepartitionBatch.Place, time: Timestamp, value: Record)]]
    }

    private let options: ScaleOutOptions
    private var decoder: Decoder
    private let keyOf: @Sendable (Record) -> Key
    private let consumer: KafkaConsumer
    private let producer: KafkaProducer
    private let deadLetters: DeadLetterQueue?
    private let logger: Logger
    private var splits: [Int32: InputSplit] = [:]
    private var pendingCount = 0
    let counters = ScaleOutCounters.shared

    init(options: ScaleOutOptions, decoder: Decoder, keyOf: @escaping @Sendable (Record) -> Key, logger: Logger) throws {
        self.options = options
        self.decoder = decoder
        self.keyOf = keyOf
        self.logger = logger
        var props = options.consumerProperties
        props["group.id"] = options.group
        consumer = try KafkaConsumer(properties: props, logger: logger)
        var producerProps = options.producerProperties
        producerProps["enable.idempotence"] = "true"
        producerProps["linger.ms"] = "5"
        producer = try KafkaProducer(properties: producerProps)
        // Otherwise the first records wait (about half a second on the mock cluster) for the
        // producer to learn where the repartition partitions live.
        try producer.fetchMetadata(topics: [options.repartitionTopic])
        deadLetters = try options.deadLetterTopic.map { try DeadLetterQueue(topic: $0, properties: props, logger: logger) }
        consumer.rebalanceHandler = self
        try consumer.subscribe([options.inputTopic])
    }

    /// Reads what is there (up to `limit` messages, waiting at most `timeoutMs` for the
    /// first); writes full batches. Returns the number of messages read.
    func poll(limit: Int, timeoutMs: Int32) throws -> Int {
        let read = try consumer.pollMessages(limit: limit, timeoutMs: timeoutMs) { m in
            guard splits[m.pointee.partition] != nil else { return false }  // fetched before a revocation
            try take(m.pointee, m)
            return true
        }
        if pendingCount >= 50_000 { try writeBatches() }
        return read
    }

    private func take(_ msg: rd_kafka_message_t, _ m: UnsafeMutablePointer<rd_kafka_message_t>) throws {
        var tsType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let ts = rd_kafka_message_timestamp(m, &tsType)
        let message = KafkaMessage(
            topic: options.inputTopic, partition: msg.partition, offset: msg.offset,
            timestamp: tsType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : ts,
            key: msg.key.map { UnsafeRawBufferPointer(start: $0, count: msg.key_len) },
            value: UnsafeRawBufferPointer(start: msg.payload, count: msg.len))
        let p = msg.partition
        let lag = options.outOfOrderness.milliseconds
        var index = 0
        var split = splits[p]!
        splits[p] = nil  // uniquely referenced while records are appended
        defer { splits[p] = split }
        var late: [Timestamp] = []
        do {
            try decoder.decode(message) { record, time in
                defer { index += 1 }
                // Late by its own partition's event time: decided here, by input order alone,
                // so every run of the job (whatever process reads it) decides the same.
                if split.maxTime != .min && time <= split.maxTime &- lag &- 1 {
                    late.append(time)
                    return
                }
                if time > split.maxTime { split.maxTime = time }
                let kg = KeyGroups.keyGroup(of: keyOf(record), maxParallelism: options.maxParallelism)
                let q = Int(options.repartitionPartition(ofKeyGroup: kg))
                split.pending[q].append((RepartitionBatch.Place(offset: msg.offset, index: index), time, record))
                pendingCount += 1
            }
        } catch {
            counters.undecodable.add(1, ordering: .relaxed)
            if let deadLetters { try deadLetters.send(message, error: error) } else {
                logger.warning("undecodable input \(message.topic)[\(p)]@\(msg.offset) skipped (no dead-letter topic): \(error)")
            }
        }
        if !late.isEmpty {
            counters.late.add(late.count, ordering: .relaxed)
            let reason = LateRecords(count: late.count, watermark: split.maxTime &- lag &- 1)
            if let deadLetters { try deadLetters.send(message, error: reason) } else { logger.warning("\(message.topic)[\(p)]@\(msg.offset): \(reason)") }
        }
        split.nextOffset = msg.offset + 1
        split.lastRecordNanos = monotonicNanos()
    }

    /// Writes every pending record, and the watermark of each input partition to every
    /// repartition partition that has not heard it yet.
    func writeBatches(now: UInt64 = monotonicNanos()) throws {
        let idleNanos = UInt64(max(0, options.partitionIdleTimeout.milliseconds)) * 1_000_000
        let lag = options.outOfOrderness.milliseconds
        for p in splits.keys.sorted() {
            // Out of the dictionary, so each pending array is uniquely referenced and keeps its
            // buffer when emptied. (Shared, `removeAll(keepingCapacity:)` allocated a fresh
            // buffer of the whole capacity each time, and refilling its new pages was 15% of
            // the process's samples in the scaleout benchmark: clear_page_erms.)
            var split = splits.removeValue(forKey: p)!
            defer { splits[p] = split }
            let watermark = split.maxTime == .min ? Timestamp.min : split.maxTime &- lag &- 1
            let idle = now - split.lastRecordNanos >= idleNanos
            for q in 0..<options.repartitionPartitions {
                guard !split.pending[q].isEmpty || split.reported[q].watermark != watermark || split.reported[q].idle != idle else { continue }
                try RepartitionBatch.encodeMessages(inputPartition: p, watermark: watermark, idle: idle,
                                                    previous: split.reported[q].watermark, records: split.pending[q]) { encoded in
                    try encoded.withUnsafeBytes { v in
                        try producer.produce(topic: options.repartitionTopic, partition: Int32(q), key: nil, value: v)
                    }
                }
                split.pending[q].removeAll(keepingCapacity: true)
                split.reported[q] = (watermark, idle)
            }
        }
        counters.shuffled.add(pendingCount, ordering: .relaxed)
        pendingCount = 0
        producer.poll()
    }

    /// Everything read so far is on the brokers; its offsets become the group's.
    func commit(_ only: [Int32]? = nil) throws {
        try writeBatches()
        try producer.flush()
        try deadLetters?.flush()
        let offsets = splits.filter { only?.contains($0.key) ?? true }.compactMap { p, s in
            s.nextOffset >= 0 ? (TopicPartition(options.inputTopic, p), s.nextOffset) : nil
        }
        do { try consumer.commit(offsets, async: false) } catch {
            // At least once either way: a successor reads again from the older offset.
            logger.warning("input offsets not committed: \(error)")
        }
    }

    func close() {
        consumer.close()
    }

    // MARK: RebalanceHandler

    func partitionsAssigned(_ partitions: [TopicPartition]) -> [Int64] {
        let now = monotonicNanos()
        for tp in partitions {
            splits[tp.partition] = InputSplit(
                lastRecordNanos: now,
                reported: Array(repeating: (Timestamp.min, false), count: options.repartitionPartitions),
                pending: Array(repeating: [], count: options.repartitionPartitions))
        }
        logReading()
        // The group's committed offset, else the earliest.
        return partitions.map { _ in KafkaOffset.invalid }
    }

    func partitionsRevoked(_ partitions: [TopicPartition]) {
        // Hand over cleanly: what was read is written and committed, so the next owner does
        // not read it again.
        do { try commit(partitions.map(\.partition)) } catch {
            logger.warning("handing over \(summary(partitions)): \(error); the next owner reads again from the last commit")
        }
        for tp in partitions { splits[tp.partition] = nil }
        logReading()
    }

    func partitionsLost(_ partitions: [TopicPartition]) {
        for tp in partitions { splits[tp.partition] = nil }
        logReading()
    }

    /// Every input partition this process reads now, in full (the consumer's own lines
    /// shorten long lists).
    private func logReading() {
        logger.info("reads \(options.inputTopic)[\(splits.keys.sorted().map(String.init).joined(separator: ","))] (pid \(getpid()))")
    }
}

/// Why records went to the dead-letter topic: later than their partition's watermark.
struct LateRecords: Error, CustomStringConvertible {
    var count: Int
    var watermark: Timestamp
    var description: String { "\(count) record(s) later than their input partition's watermark \(watermark)" }
}
