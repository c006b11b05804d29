/// The consumer settings in which Vigil differs from librdkafka's defaults, and why.
extension KafkaProperties {
    /// Applied under whatever the user sets.
    public static let consumerDefaults: KafkaProperties = [
        "enable.auto.commit": "false",
        "enable.auto.offset.store": "false",
        "partition.assignment.strategy": "cooperative-sticky",
        "auto.offset.reset": "earliest",
        // librdkafka keeps one fetch in flight per broker. When the partitions it may
        // fetch are all caught up (the others' local queues being full), that fetch waits
        // the whole fetch.wait.max.ms (default 500) while the queues drain: in a replay
        // the source then starves for half a second at a time (the kafka benchmark ran
        // 3-7x slower). 25 ms bounds the stall, for ~40 empty fetches/s per idle broker
        // (100 ms still cost 3x; 10 ms was no better than 25).
        "fetch.wait.max.ms": "25",
    ]

    /// The largest share of the prefetch queue (`queued.max.messages.kbytes`) one fetch
    /// response may fill.
    static let fetchShareOfQueue = 8

    /// These properties with `fetch.max.bytes` set to an eighth of the prefetch queue, unless
    /// the user set it. librdkafka's default fetch (50 MB) nearly fills its default queue
    /// (64 MB): the broker thread then stops fetching until the consumer has drained the
    /// queue, and the two take turns instead of overlapping. Responses that large are also
    /// above glibc's mmap threshold, so every one is mapped fresh and its pages are faulted
    /// in and zeroed (half of the broker thread's time in the kafka benchmark). An eighth
    /// keeps several responses queued while the next is fetched; never below
    /// `message.max.bytes`, which librdkafka requires.
    func withFetchSizedToQueue() -> KafkaProperties {
        guard self["fetch.max.bytes"] == nil else { return self }
        let queueBytes = (self["queued.max.messages.kbytes"].flatMap { Int($0) } ?? 65_536) * 1024
        let messageMax = self["message.max.bytes"].flatMap { Int($0) } ?? 1_000_000
        var sized = self
        sized["fetch.max.bytes"] = String(max(queueBytes / Self.fetchShareOfQueue, messageMax))
        return sized
    }

    /// The settings a Vigil Kafka source's consumer runs with, given the user's: what the
    /// benchmark gives its raw librdkafka loop to compare like with like.
    public static func effectiveConsumerProperties(_ user: KafkaProperties) -> KafkaProperties {
        consumerDefaults.merging(user).withFetchSizedToQueue()
    }
}
