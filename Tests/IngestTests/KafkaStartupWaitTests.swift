@testable import Ingest
import Foundation
import Stream
import XCTest

/// Starting an exactly-once Kafka sink waited on fixed timers (each 500 ms or more) that had
/// nothing to wait for. These check that none is hit: durations far below the timer, not
/// throughput figures.
final class KafkaStartupWaitTests: XCTestCase {
    /// `KafkaAdmin.readToEnd` reads a small topic whole: a transactional sink reads its markers
    /// topic that way every time it starts. It took a second however small the topic: its end
    /// is an end-of-partition event, which the broker sent only after holding an empty fetch
    /// for librdkafka's default 500 ms, and closing its consumer waited another 500 ms for a
    /// group it never joined.
    func testReadingASmallTopicToItsEndWaitsForNoTimer() throws {
        let cluster = try MockKafkaCluster(brokers: 1)
        try cluster.createTopic("m", partitions: 3)
        let producer = try KafkaProducer(properties: KafkaProperties(brokers: cluster.bootstrapServers))
        for i in 0..<10 { try producer.produce(topic: "m", partition: Int32(i % 2), key: nil, value: [UInt8(i)]) }
        try producer.flush()  // partition 2 stays empty
        var millis: [UInt64] = []
        for _ in 0..<3 {
            let started = monotonicNanos()
            let records = try KafkaAdmin.readToEnd(brokers: cluster.bootstrapServers, topic: "m", partitions: 3, readCommitted: true)
            millis.append((monotonicNanos() - started) / 1_000_000)
            XCTAssertEqual(records.map(\.value[0]).sorted(), (0..<10).map(UInt8.init), "every record, once")
        }
        XCTAssertLessThan(millis.sorted()[1], 450, "reads took \(millis) ms")
        XCTAssertEqual(try KafkaAdmin.readToEnd(brokers: cluster.bootstrapServers, topic: "absent", readCommitted: true).count, 0,
                       "a topic not created yet reads as empty")
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
