@testable import Ingest
import Foundation
import Stream
import XCTest

/// Starting a Kafka source or an exactly-once Kafka sink waited on fixed timers (each 500 ms
/// or more) that had nothing to wait for. These check that none is hit: by what is handed to
/// librdkafka, or by durations far below the timer (not throughput figures).
final class KafkaStartupWaitTests: XCTestCase {
    /// A topic of `partitions` partitions on a one-broker mock; partition p holds `counts(p)`
    /// one-byte records.
    func cluster(topic: String, partitions: Int, counts: (Int) -> Int) throws -> MockKafkaCluster {
        let cluster = try MockKafkaCluster(brokers: 1)
        try cluster.createTopic(topic, partitions: partitions)
        let producer = try KafkaProducer(properties: KafkaProperties(brokers: cluster.bootstrapServers))
        for p in 0..<partitions {
            for i in 0..<counts(p) { try producer.produce(topic: topic, partition: Int32(p), key: nil, value: [UInt8(i)]) }
        }
        try producer.flush()
        return cluster
    }

    /// A fresh group (no checkpoint, nothing committed) starts each partition where the
    /// starting offsets say, as a concrete offset. Assigned at a logical one (the beginning,
    /// the end), librdkafka looks the partition up at once, often before the partition has
    /// joined its broker; that lookup fails and is retried only after 500 ms, and the source
    /// stalled half a second at its start (in most `--quick` runs of the kafka benchmark).
    func testAFreshGroupIsAssignedConcreteOffsetsAtTheBeginningOrTheEnd() throws {
        let cluster = try cluster(topic: "s", partitions: 4) { $0 + 1 }
        let partitions = (0..<4).map { TopicPartition("s", Int32($0)) }
        for (starting, expected) in [(KafkaSourceOptions.StartingOffsets.earliest, [Int64](repeating: 0, count: 4)),
                                     (.latest, [1, 2, 3, 4])] {
            var options = KafkaSourceOptions(brokers: cluster.bootstrapServers, topics: ["s"], groupID: "fresh-\(starting)")
            options.startingOffsets = starting
            let consumer = try KafkaConsumer(properties: options.consumerProperties)
            let splits = KafkaSplits(options: options, logger: .init(label: "test"))
            splits.consumer = consumer
            XCTAssertEqual(splits.partitionsAssigned(partitions), expected, "\(starting): each partition's offset, looked up")
            consumer.close()
        }
    }

    /// `KafkaAdmin.readToEnd` reads a small topic whole: a transactional sink reads its markers
    /// topic that way every time it starts. It took a second however small the topic: its end
    /// is an end-of-partition event, which the broker sent only after holding an empty fetch
    /// for librdkafka's default 500 ms, and closing its consumer waited another 500 ms for a
    /// group it never joined.
    func testReadingASmallTopicToItsEndWaitsForNoTimer() throws {
        let cluster = try cluster(topic: "m", partitions: 3) { [5, 5, 0][$0] }  // partition 2 stays empty
        var millis: [UInt64] = []
        for _ in 0..<3 {
            let started = monotonicNanos()
            let records = try KafkaAdmin.readToEnd(brokers: cluster.bootstrapServers, topic: "m", partitions: 3, readCommitted: true)
            millis.append((monotonicNanos() - started) / 1_000_000)
            XCTAssertEqual(records.map(\.value[0]).sorted(), [0, 0, 1, 1, 2, 2, 3, 3, 4, 4], "every record, once")
        }
        XCTAssertLessThan(millis.sorted()[1], 450, "reads took \(millis) ms")
        XCTAssertEqual(try KafkaAdmin.readToEnd(brokers: cluster.bootstrapServers, topic: "absent", readCommitted: true).count, 0,
                       "a topic not created yet reads as empty")
        XCTAssertEqual(try KafkaAdmin.readToEnd(brokers: cluster.bootstrapServers, topic: "m", partitions: 4, readCommitted: true)
                        .map(\.value[0]).sorted(), [0, 0, 1, 1, 2, 2, 3, 3, 4, 4],
                       "a partition the topic does not have reads as empty; the others' records are kept")
    }

    /// The embedded broker (librdkafka's mock) does not answer CreateTopics, and a sink's first
    /// start waited out its 5 s request for the markers topic. The mock now has the topic.
    func testATransactionalSinkStartsOnTheEmbeddedBrokerWithoutWaitingForCreateTopics() throws {
        let cluster = try MockKafkaCluster(brokers: 1)
        try cluster.createTopic("out", partitions: 1)
        var options = KafkaSinkOptions(brokers: cluster.bootstrapServers, topic: "out")
        options.stagingDirectory = NSTemporaryDirectory() + "vigil-startup-wait-\(UUID())"
        defer { try? FileManager.default.removeItem(atPath: options.stagingDirectory!) }
        let started = monotonicNanos()
        try TransactionalSession(options: options, transactionalID: "startup-wait").open()
        let millis = (monotonicNanos() - started) / 1_000_000
        XCTAssertLessThan(millis, 2_500, "opening took \(millis) ms")
    }
}
