import Stream

/// How a scaled-out job runs: every process of the group is started with the same options
/// (only `stateDirectory` is the process's own). See `docs/scaleout.md`.
public struct ScaleOutOptions: Sendable {
    public var brokers: String
    /// The consumer group of the input stage; the stateful stage's group is `<group>.stateful`.
    public var group: String
    public var inputTopic: String
    public var outputTopic: String
    /// Records re-keyed for the stateful stage, keyed by their key group. Created (when the
    /// cluster allows) with `repartitionPartitions` partitions; every process must agree.
    public var repartitionTopic: String
    public var repartitionPartitions: Int
    /// Every commit's snapshot of each stateful partition, and the commit's marker, in the
    /// partition of the same number. Compacted on real Kafka.
    public var changelogTopic: String
    /// Local checkpoints of the partitions this process owns: the fast path of a restore.
    public var stateDirectory: String
    /// How often offsets, state and output are committed (output becomes visible then).
    public var commitInterval: TimeSpan = .seconds(1)
    /// Event time of the input stage: per input partition, the largest record time minus this.
    public var outOfOrderness: TimeSpan = .seconds(2)
    /// An input partition without records for this long stops holding back the watermark.
    public var partitionIdleTimeout: TimeSpan = .seconds(30)
    /// Records later than their input partition's watermark go here (with the reason), never
    /// silently dropped; without it they are counted and logged.
    public var deadLetterTopic: String?
    /// Extra librdkafka properties for every client (security settings, timeouts). Setting
    /// `session.timeout.ms` here turns off the negotiation of `sessionTimeoutSteps`.
    public var properties: KafkaProperties = [:]
    /// Key groups of the stateful stage: must never change for a group's state.
    public var maxParallelism = KeyGroups.defaultMaxParallelism

    public init(brokers: String, group: String, inputTopic: String, outputTopic: String,
                repartitionPartitions: Int = 8, stateDirectory: String) {
        self.brokers = brokers
        self.group = group
        self.inputTopic = inputTopic
        self.outputTopic = outputTopic
        self.repartitionTopic = "\(group)-repartition"
        self.changelogTopic = "\(group)-changelog"
        self.repartitionPartitions = repartitionPartitions
        self.stateDirectory = stateDirectory
    }

    /// The session timeouts the job asks for, shortest first, when `properties` sets none: a
    /// dead member's partitions move one session timeout after its death, so the job takes
    /// the shortest the group coordinator accepts (brokers refuse less than their
    /// `group.min.session.timeout.ms`, 6 s by default; librdkafka's own default is 45 s).
    public static let sessionTimeoutSteps = [3_000, 6_000, 10_000, 45_000]

    /// Consumer settings of both stages. Heartbeats every 500 ms: six per session at the
    /// shortest step.
    var consumerProperties: KafkaProperties {
        let defaults: KafkaProperties = ["session.timeout.ms": String(Self.sessionTimeoutSteps[0]), "heartbeat.interval.ms": "500"]
        return KafkaProperties(brokers: brokers).merging(defaults).merging(properties)
    }

    /// The next longer session timeout to ask for after the coordinator refused this one;
    /// nil when the user chose it (or none is left).
    func sessionTimeoutAfterRefusal(_ refused: Int, userChosen: Bool) -> Int? {
        userChosen ? nil : Self.sessionTimeoutSteps.first { $0 > refused }
    }

    var producerProperties: KafkaProperties { KafkaProperties(brokers: brokers).merging(properties) }

    /// The stateful partition of a key group: contiguous ranges, as subtasks own key groups.
    func repartitionPartition(ofKeyGroup keyGroup: Int) -> Int32 {
        Int32(KeyGroups.subtask(forKeyGroup: keyGroup, maxParallelism: maxParallelism, parallelism: repartitionPartitions))
    }
}
