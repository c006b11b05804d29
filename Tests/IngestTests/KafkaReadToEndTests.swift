@testable import Ingest
import Foundation
import Stream
import XCTest

/// `KafkaAdmin.readToEnd` reads a small topic whole: a transactional sink reads its markers
/// topic that way every time it starts. It took a second however small the topic: its end is
/// an end-of-partition event, which the broker sent only after holding an empty fetch for
/// librdkafka's default 500 ms, and closing its consumer waited another 500 ms for a group it
/// never joined. Each is a fixed timer of at least 500 ms, so a median under 450 ms over three
/// reads says that neither is hit (this is no throughput figure).
final class KafkaReadToEndTests: XCTestCase {
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
}
