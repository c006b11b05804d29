import CRdKafka
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
    private var options: ScaleOutOptions
    private var shuffle: ShuffleStage<Decoder, Key>
    private var stateful: StatefulStage<Record, Out>
    private let makeStages: (ScaleOutOptions) throws -> (ShuffleStage<Decoder, Key>, StatefulStage<Record, Out>)
    private let logger: Logger
    private let counters = ScaleOutCounters.shared

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
        makeStages = { options in
            (try ShuffleStage(options: options, decoder: decoder(), keyOf: key, logger: logger),
             try StatefulStage(options: options, inputPartitions: inputPartitions,
                               build: { try build($0.keyBy(key)) }, encode: encode, logger: logger))
        }
        (shuffle, stateful) = try makeStages(options)
    }

    /// The session timeout the job's consumers ask for now: the shortest step the group
    /// coordinator accepted, or the user's.
    public var sessionTimeoutMs: Int { Int(options.consumerProperties["session.timeout.ms"] ?? "") ?? 0 }

    /// Runs until `shouldStop` says so (then commits what it has and leaves the groups).
    public func run(until shouldStop: () -> Bool) throws {
        let userChosen = options.properties["session.timeout.ms"] != nil
        while true {
            do {
                return try runStages(until: shouldStop)
            } catch let error as KafkaError where error.code == RD_KAFKA_RESP_ERR_INVALID_SESSION_TIMEOUT.rawValue {
                // Refused at the first join (nothing assigned yet), or later if the brokers'
                // bounds changed: both stages stop as on a graceful stop and start again.
                let refused = sessionTimeoutMs
                guard let next = options.sessionTimeoutAfterRefusal(refused, userChosen: userChosen) else { throw error }
                logger.warning("the group coordinator refuses session.timeout.ms=\(refused); asking for \(next) (failover takes about that long)")
                try stopStages()
                options.properties["session.timeout.ms"] = String(next)
                (shuffle, stateful) = try makeStages(options)
            }
        }
    }

    private func runStages(until shouldStop: () -> Bool) throws {
        let interval = UInt64(max(1, options.commitInterval.milliseconds)) * 1_000_000
        var lastCommit = monotonicNanos()
        var lastBatch = monotonicNanos()
        var idle = false
        while !shouldStop() {
            // Never block long on one consumer while the other has messages: when both had
            // none, wait a little on the input, then look at the other without waiting.
            let t0 = monotonicNanos()
            let a = try shuffle.poll(limit: 2_000, timeoutMs: idle ? 2 : 0)
            let t1 = monotonicNanos()
            let b = try stateful.poll(limit: 500, timeoutMs: 0)
            idle = a == 0 && b == 0
            let now = monotonicNanos()
            if a > 0 { counters.inputNanos.add(Int(t1 - t0), ordering: .relaxed) } else { counters.waitNanos.add(Int(t1 - t0), ordering: .relaxed) }
            if b > 0 { counters.statefulNanos.add(Int(now - t1), ordering: .relaxed) } else { counters.waitNanos.add(Int(now - t1), ordering: .relaxed) }
            // Batches leave often (the stateful stage waits for them), commits less often.
            if now - lastBatch >= 20_000_000 || a == 0 {
                try shuffle.writeBatches(now: now)
                lastBatch = now
                counters.batchNanos.add(Int(monotonicNanos() - now), ordering: .relaxed)
            }
            if now - lastCommit >= interval {
                let started = monotonicNanos()
                try shuffle.commit()
                try stateful.commitAll()
                lastCommit = monotonicNanos()
                counters.commitLoopNanos.add(Int(lastCommit - started), ordering: .relaxed)
            }
        }
        try stopStages()
    }

    /// Commits what both stages have and leaves both groups.
    private func stopStages() throws {
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
