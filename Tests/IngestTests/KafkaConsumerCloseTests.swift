@testable import Ingest
import CRdKafka
import Foundation
import XCTest

/// librdkafka before 2.2.1 aborts in `rd_kafka_destroy` when a cooperative-sticky member has
/// joined its group (the assignor is chosen) but never completed a SyncGroup (the assignor's
/// state is still NULL): librdkafka issue #4312. A process stopped during a rebalance hit it
/// (the scale-out test's stopped processes exited with SIGABRT). This member's SyncGroup
/// requests all fail, so it stays in that window; dropping it must not take the process down.
final class KafkaConsumerCloseTests: XCTestCase {
    func testAMemberThatJoinedButNeverGotAnAssignmentClosesWithoutAborting() throws {
        let cluster = try MockKafkaCluster(brokers: 1)
        try cluster.createTopic("joining", partitions: 2)
        let syncGroup: Int16 = 14
        cluster.pushRequestErrors(apiKey: syncGroup, Array(repeating: RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS.rawValue, count: 1_000))
        var props = KafkaProperties(brokers: cluster.bootstrapServers)
        props["group.id"] = "never-synced"
        var consumer: KafkaConsumer? = try KafkaConsumer(properties: props)
        try consumer!.subscribe(["joining"])

        // Joined: the coordinator gave the member an id (the mock answers JoinGroup after a few
        // seconds). Then a little longer, for the full JoinGroup round and a failed SyncGroup.
        func memberID() -> String {
            guard let id = rd_kafka_memberid(consumer!.handle) else { return "" }
            defer { rd_kafka_mem_free(consumer!.handle, id) }
            return String(cString: id)
        }
        let deadline = Date().addingTimeInterval(30)
        while memberID().isEmpty && Date() < deadline { _ = try? consumer!.poll(timeoutMs: 50) }
        XCTAssertFalse(memberID().isEmpty, "the member never joined: the test did not reach the window it is about")
        let settle = Date().addingTimeInterval(1)
        while Date() < settle { _ = try? consumer!.poll(timeoutMs: 50) }
        XCTAssertTrue(consumer!.assignmentNeverCompleted, "the member must still be waiting for its first assignment")

        consumer = nil  // close and release: librdkafka 2.0.2's destroy would abort here
    }
}
