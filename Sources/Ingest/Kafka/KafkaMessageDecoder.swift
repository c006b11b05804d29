import Stream

/// One consumed Kafka message, valid only during the `decode` call that receives it: key and
/// value point into librdkafka's buffer (no copy).
public struct KafkaMessage {
    public let topic: String
    public let partition: Int32
    public let offset: Int64
    /// The message's timestamp (ms since the epoch), or `nil` when it has none.
    public let timestamp: Int64?
    public let key: UnsafeRawBufferPointer?
    public let value: UnsafeRawBufferPointer

    /// Also for decoding bytes that did not come from Kafka (replays, tests).
    public init(topic: String, partition: Int32, offset: Int64, timestamp: Int64?, key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestamp = timestamp
        self.key = key
        self.value = value
    }
}

/// Turns Kafka messages into a source's records. A value type owned by one source subtask.
public protocol KafkaMessageDecoder: SendableMetatype {
    associatedtype Output: Sendable
    /// Decodes one message, emitting each record it holds with its event time (ms). Validate
    /// the whole message before emitting its first record: a thrown error sends the message
    /// to the dead-letter topic, and records already emitted cannot be taken back.
    mutating func decode(_ message: KafkaMessage, emit: (Output, Timestamp) throws -> Void) throws
}

/// The message itself as a record: topic, partition, offset, timestamp, key and value bytes.
public struct KafkaRecord: Sendable, Hashable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var timestamp: Int64?
    public var key: [UInt8]?
    public var value: [UInt8]
}

/// Copies each message into a `KafkaRecord`, timed by the message's timestamp.
public struct RawKafkaDecoder: KafkaMessageDecoder {
    public init() {}
    public mutating func decode(_ m: KafkaMessage, emit: (KafkaRecord, Timestamp) throws -> Void) throws {
        try emit(KafkaRecord(topic: m.topic, partition: m.partition, offset: m.offset, timestamp: m.timestamp,
                             key: m.key.map { Array($0) }, value: Array(m.value)),
                 m.timestamp ?? 0)
    }
}
