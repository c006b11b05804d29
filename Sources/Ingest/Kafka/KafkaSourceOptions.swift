import Stream

/// How a Kafka source reads: which brokers, topics and group; where partitions start; how
/// event time and dead letters are handled.
public struct KafkaSourceOptions: Sendable {
    /// Where a partition starts when neither a restored checkpoint nor the group's committed
    /// offsets say. (To replay a topic, use a new group id.)
    public enum StartingOffsets: Sendable, Equatable {
        case earliest
        case latest
        /// The first record at or after this time (ms since the epoch), via offsetsForTimes.
        case timestamp(Int64)
    }

    /// When the source ends.
    public enum Boundedness: Sendable, Equatable {
        /// Never: a streaming job.
        case unbounded
        /// Once every assigned partition has been read to its end (as librdkafka reports it)
        /// — for replays, tests and benchmarks in one process.
        case untilEndOfPartitions
        /// Once every assigned partition has been read up to its first record stamped at or
        /// after this time (ms since the epoch; the Kafka record timestamp, via
        /// offsetsForTimes at assignment), or to the end it had then: a backtest's range.
        case untilTimestamp(Int64)
    }

    public var brokers: String
    public var topics: [String]
    public var groupID: String
    public var startingOffsets: StartingOffsets = .earliest
    public var boundedness: Boundedness = .unbounded
    /// Event time may lag this far behind the newest record of a partition.
    public var outOfOrderness: TimeSpan = .milliseconds(0)
    /// A partition without records for this long stops holding back the watermark.
    public var partitionIdleTimeout: TimeSpan = .milliseconds(5_000)
    /// Messages that fail to decode go here, with headers naming their origin and the error.
    /// nil: a decode failure fails the job instead, unless `skipsUndecodable`.
    public var deadLetterTopic: String? = "vigil_dead_letters"
    /// Without a dead-letter topic: count undecodable messages (`IngestCounters.skipped`) and
    /// go on. For replays: the live run already sent those messages to the dead letters.
    public var skipsUndecodable = false
    /// Whether completed checkpoints commit their offsets to the group. A replay reads with a
    /// private group and leaves no trace in the cluster.
    public var commitsOffsets = true
    /// Any further librdkafka property (`session.timeout.ms`, security settings, …).
    public var properties: KafkaProperties = [:]

    public init(brokers: String, topics: [String], groupID: String) {
        self.brokers = brokers
        self.topics = topics
        self.groupID = groupID
    }

    var consumerProperties: KafkaProperties {
        var p = KafkaProperties(brokers: brokers)
        p["group.id"] = groupID
        if boundedness == .untilEndOfPartitions { p["enable.partition.eof"] = "true" }
        return p.merging(properties)
    }
}
