import Stream

/// Writes each record as it comes through an idempotent producer; at every checkpoint waits
/// until all are delivered (a delivery failure fails the checkpoint and the job, so nothing is
/// lost silently). A restart from a checkpoint may write records after it a second time.
public struct KafkaAtLeastOnceWriter<T: Sendable>: TwoPhaseCommitWriter {
    public struct Transaction: StateCodable, Sendable {
        public func encode(to w: inout StateWriter) {}
        public static func decode(from r: inout StateReader) throws -> Transaction { Transaction() }
    }

    let topic: String
    let producer: KafkaProducer
    let encode: @Sendable (T) -> KafkaOutputRecord
    private var sinceFlush = 0

    public init(options: KafkaSinkOptions, encode: @escaping @Sendable (T) -> KafkaOutputRecord) throws {
        topic = options.topic
        producer = try KafkaProducer(properties: options.producerProperties)
        self.encode = encode
    }

    public mutating func write(_ value: T, timestamp: Timestamp) throws {
        let r = encode(value)
        try producer.produce(topic: topic, partition: r.partition, key: r.key, value: r.value)
        sinceFlush &+= 1
        if sinceFlush & 1023 == 0 { producer.poll() }
    }

    public mutating func preCommit(checkpointID: Int64) throws -> Transaction? {
        try producer.flush()
        return nil
    }

    public func commit(_ transaction: Transaction) throws {}

    public mutating func recover(restoredCheckpoint: Int64?, keeping: [Transaction], subtask: Int, parallelism: Int) throws {}

    public mutating func finish() throws { try producer.flush() }
}
