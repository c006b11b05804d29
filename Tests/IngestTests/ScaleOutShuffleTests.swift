@testable import Ingest
import Foundation
import Logging
import Stream
import XCTest

/// The input stage of a scaled-out job against the mock cluster over TCP: what it writes to the
/// repartition topic when one (input partition, stateful partition) batch needs several
/// messages.
final class ScaleOutShuffleTests: XCTestCase {
    /// 6,000 records of one input partition, all for the one stateful partition, written at
    /// once: three messages, and only the last carries the watermark after all of them (the
    /// stateful stage may move event time on between two messages; were the first to carry
    /// it, the records of the other two would be late there).
    func testOnlyTheLastMessageOfABatchCarriesTheNewWatermark() throws {
        let cluster = try MockKafkaCluster(brokers: 1)
        for t in ["in", "g-repartition"] { try cluster.createTopic(t, partitions: 1) }
        let producer = try KafkaProducer(properties: KafkaProperties(brokers: cluster.bootstrapServers))
        for m in 0..<3 {
            let lines = (0..<2_000).map { "k \(m * 2_000 + $0)" }.joined(separator: "\n")
            try producer.produce(topic: "in", partition: 0, key: nil, value: Array(lines.utf8))
        }
        try producer.flush()

        var options = ScaleOutOptions(brokers: cluster.bootstrapServers, group: "g", inputTopic: "in", outputTopic: "out",
                                      repartitionPartitions: 1, stateDirectory: "/nonexistent")
        options.outOfOrderness = .milliseconds(0)
        let stage = try ShuffleStage(options: options, decoder: KeyedReadingDecoder(), keyOf: { $0.key }, logger: Logger(label: "test"))
        defer { stage.close() }
        var read = 0
        let deadline = Date().addingTimeInterval(30)
        while read < 3 {
            XCTAssertLessThan(Date(), deadline, "the input stage read \(read) of 3 messages")
            if Date() >= deadline { return }
            read += try stage.poll(limit: 100, timeoutMs: 100)  // 6,000 pending: under the stage's own write threshold
        }
        try stage.commit()

        let headers = try KafkaAdmin.readToEnd(brokers: cluster.bootstrapServers, topic: "g-repartition", readCommitted: false).map { m in
            var r = StateReader(m.value)
            return try RepartitionBatch.readHeader(&r)
        }
        XCTAssertEqual(headers.map(\.count), [2_000, 2_000, 2_000])
        XCTAssertEqual(headers.map(\.watermark), [.min, .min, 5_998], "the watermark after the last record (5,999 - 0 ms - 1)")
        XCTAssertEqual(headers.map(\.idle), [false, false, false])
    }
}
