@testable import Ingest
import CRdKafka
import Foundation
import XCTest

/// A stopped `vigil window-count` crashed in its rebalance callback (a local run of the suite
/// under load): a revocation reached it while the consumer closed, and librdkafka, its group
/// handler stopped, answered NULL for the rebalance protocol, which the callback read as a
/// string ("unexpectedly found nil", the same crash this test gives without the fix).
final class KafkaRebalanceProtocolTests: XCTestCase {
    func testAClosedConsumerHasNoProtocolAndTheConfiguredAssignorsDecide() throws {
        let cluster = try MockKafkaCluster(brokers: 1)
        try cluster.createTopic("protocol", partitions: 2)
        var props = KafkaProperties(brokers: cluster.bootstrapServers)
        props["group.id"] = "protocol"
        let consumer = try KafkaConsumer(properties: props)
        try consumer.subscribe(["protocol"])
        let deadline = Date().addingTimeInterval(30)
        while consumer.assignment.isEmpty && Date() < deadline { _ = try consumer.poll(timeoutMs: 50) }
        XCTAssertEqual(consumer.assignment.count, 2)
        XCTAssertEqual(rd_kafka_rebalance_protocol(consumer.handle).map { String(cString: $0) }, "COOPERATIVE")

        consumer.close()
        XCTAssertNil(rd_kafka_rebalance_protocol(consumer.handle), "what the callback must cope with")
        // A revocation arriving now: handed back, not a crash.
        let list = rd_kafka_topic_partition_list_new(2)!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for p: Int32 in 0..<2 { rd_kafka_topic_partition_list_add(list, "protocol", p) }
        consumer.listener.rebalance(consumer.handle, RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS, list)
        XCTAssertTrue(consumer.assignment.isEmpty)

        XCTAssertTrue(RebalanceProtocol.isCooperative(reported: nil, assignors: "cooperative-sticky"))
        XCTAssertFalse(RebalanceProtocol.isCooperative(reported: nil, assignors: "range, roundrobin"))
        XCTAssertTrue(RebalanceProtocol.isCooperative(reported: "COOPERATIVE", assignors: "range"))
        XCTAssertFalse(RebalanceProtocol.isCooperative(reported: "EAGER", assignors: "cooperative-sticky"))
    }
}
