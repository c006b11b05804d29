@testable import Ingest
import Foundation
import XCTest

/// A fresh group (no checkpoint, nothing committed) starts each partition where the starting
/// offsets say, as a concrete offset. Assigned at a logical one (the beginning, the end),
/// librdkafka looks the partition up at once, often before the partition has joined its
/// broker; that lookup fails and is retried only after 500 ms, and the source stalled half a
/// second at its start (in most `--quick` runs of the kafka benchmark).
final class KafkaStartingOffsetsTests: XCTestCase {
    func testAFreshGroupIsAssignedConcreteOffsetsAtTheBeginningOrTheEnd() throws {
        let cluster = try MockKafkaCluster(brokers: 1)
        try cluster.createTopic("s", partitions: 4)
        let producer = try KafkaProducer(properties: KafkaProperties(brokers: cluster.bootstrapServers))
        for p in 0..<4 {
            for i in 0...p { try producer.produce(topic: "s", partition: Int32(p), key: nil, value: [UInt8(i)]) }
        }
        try producer.flush()
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
}
