import Foundation
import Logging
import Stream

/// A keyed job that scales out over processes: run the same job in any number of processes
/// with the same options, and Kafka spreads the work. The key need not be how the input topic
/// is partitioned: records go through a repartition topic keyed by key group.
///
///     let job = try ScaleOutJob(options, decoder: { EventDecoder() }, key: \.service) { events in
///         events.window(.tumbling(.seconds(10))).aggregate(Count()) { k, w, n in "\(k) \(w.start) \(n)" }
///     } encode: { KafkaOutputRecord(value: Array($0.utf8)) }
///     try job.run { stopRequested.load(ordering: .relaxed) }
///
/// One thread per process runs both stages in turn (Kafka Streams' model): a process uses one
/// core, and more processes use more.
public final class ScaleOutJob<Decoder: KafkaMessageDecoder, Key: StreamKey, Out: Sendable> where Decoder.Output: StateCodable {
    public typealias Record = Decoder.Output
    private let options: ScaleOutOptions
    private let shuffle: ShuffleStage<Decoder, Key>
    private let stateful: StatefulStage<Record, Out>
    private let logger: Logger

    public init(_ options: ScaleOutOptions, decoder: @escaping @Sendable () -> Decoder, key: @escaping @Sendable (Record) -> Key,
                logger: Logger = Logger(label: "vigil.scaleout"),
                stateful build: @escaping @Sendable (KeyedStream<Key, Record>) throws -> DataStream<Out>,
                encode: @escaping @Sendable (Out) -> KafkaOutputRecord) throws {
        guard options.repartitionPartitions >= 1, options.repartitionPartitions <= options.maxParallelism else {
            throw KafkaError("the repartition topic needs 1...\(options.maxParallelism) partitions, got \(options.repartitionPartitions)")
        }
        self.options = options
        self.logger = logger
        try Self.ensureTopics(options, logger: logger)
        let inputPartitions = try Self.partitionCount(options.inputTopic, options)
        let repartitionPartitions = try Self.partitionCount(options.repartitionTopic, options)
        guard repartitionPartitions == options.repartitionPartitions else {
            throw KafkaError("the repartition topic \(options.repartitionTopic) has \(repartitionPartitions) partitions; the job is configured with \(options.repartitionPartitions) (every process and the topic must agree)")
        }
        try DurableFiles.makeDirectory(options.stateDirectory)
        shuffle = try ShuffleStage(options: options, decoder: decoder(), keyOf: key, logger: logger)
        stateful = try StatefulStage(options: options, inputPartitions: inputPartitions,
                                     build: { try build($0.keyBy(key)) }, encode: encode, logger: logger)
    }

    /// Runs until `shouldStop` says so (then commits what it has and leaves the groups).
    public func run(until shouldStop: () -> Bool) throws {
        let interval = UInt64(max(1, options.commitInterval.milliseconds)) * 1_000_000
        var lastCommit = monotonicNanos()
        var lastBatch = monotonicNanos()
        var idle = false
        while !shouldStop() {
            // Never block long on one consumer while the other has messages: when both had
            // none, wait a little on the input, then look at the other without waiting.
            let a = try shuffle.poll(limit: 2_000, timeoutMs: idle ? 2 : 0)
            let b = try stateful.poll(limit: 500, timeoutMs: 0)
            idle = a == 0 && b == 0
            let now = monotonicNanos()
            // Batches leave often (the stateful stage waits for them), commits less often.
            if now - lastBatch >= 20_000_000 || a == 0 {
                try shuffle.writeBatches(now: now)
                lastBatch = now
            }
            if now - lastCommit >= interval {
                try shuffle.commit()
                try stateful.commitAll()
                lastCommit = monotonicNanos()
            }
        }
        try shuffle.commit()
        shuffle.close()
        try stateful.close()
    }

    /// The repartition topic (and the changelog, with as many partitions) where the cluster
    /// lets clients create topics; librdkafka's mock cluster does not (create them with
    /// `vigil broker --topic`).
    static func ensureTopics(_ options: ScaleOutOptions, logger: Logger) throws {
        let n = options.repartitionPartitions
        do {
            try KafkaAdmin.createTopics(brokers: options.brokers, [
                (options.repartitionTopic, n, [:]),
                (options.changelogTopic, n, ["cleanup.policy": "compact"]),
            ], properties: options.properties, timeoutMs: 10_000)
        } catch {
            logger.debug("creating \(options.repartitionTopic) and \(options.changelogTopic): \(error)")
        }
    }

    static func partitionCount(_ topic: String, _ options: ScaleOutOptions) throws -> Int32 {
        var props = options.consumerProperties
        props["group.id"] = "vigil-metadata-unused"
        let consumer = try KafkaConsumer(properties: props)
        return Int32(try KafkaTopicRange.partitionsOf([topic], consumer.handle).count)
    }
}
