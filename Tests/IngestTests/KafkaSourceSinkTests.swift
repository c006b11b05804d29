import Foundation
@testable import Ingest
import Stream
import XCTest

/// The Kafka source's starting offsets and ranges, and the sink's delivery failures, against
/// the mock cluster in this process. (The mock cluster's ListOffsets does not look offsets up
/// by time — it answers -1, "no such record", always — so the time tests here go through the
/// source's own search by timestamps.)
final class KafkaSourceSinkTests: XCTestCase {
    struct Stamped: Sendable, Hashable {
        var value: String
        var timestamp: Int64
    }

    struct StampedDecoder: KafkaMessageDecoder {
        mutating func decode(_ m: KafkaMessage, emit: (Stamped, Timestamp) throws -> Void) throws {
            try emit(Stamped(value: String(decoding: m.value, as: UTF8.self), timestamp: m.timestamp ?? -1), m.timestamp ?? 0)
        }
    }

    /// 100 records over two partitions, record i at time 1,000,000 + 1,000 i ms.
    func clusterWithRecords() throws -> MockKafkaCluster {
        let cluster = try MockKafkaCluster(brokers: 1)
        try cluster.createTopic("t", partitions: 2)
        try cluster.createTopic("vigil_dead_letters", partitions: 1)
        let producer = try KafkaProducer(properties: KafkaProperties(brokers: cluster.bootstrapServers))
        for i in 0..<100 {
            try producer.produce(topic: "t", partition: Int32(i % 2), key: nil, value: Array("r\(i)".utf8),
                                 timestampMs: 1_000_000 + Int64(i) * 1_000)
        }
        try producer.flush()
        return cluster
    }

    func read(_ cluster: MockKafkaCluster, group: String, from start: KafkaSourceOptions.StartingOffsets,
              until end: KafkaSourceOptions.Boundedness = .untilEndOfPartitions) throws -> [Stamped] {
        let env = StreamEnvironment(name: "read", parallelism: 1)
        var options = KafkaSourceOptions(brokers: cluster.bootstrapServers, topics: ["t"], groupID: group)
        options.startingOffsets = start
        options.boundedness = end
        let out = env.kafkaSource(options) { StampedDecoder() }.collect()
        _ = try env.execute()
        return out.values
    }

    /// librdkafka reports a refused session timeout as a consumer error and asks again
    /// forever; the source stops the job instead, naming the setting.
    func testASessionTimeoutTheCoordinatorRefusesStopsTheJobWithTheSettingNamed() throws {
        let cluster = try clusterWithRecords()
        cluster.pushRequestErrors(apiKey: 11 /* JoinGroup */, [26 /* INVALID_SESSION_TIMEOUT */])
        let env = StreamEnvironment(name: "refused", parallelism: 1)
        var options = KafkaSourceOptions(brokers: cluster.bootstrapServers, topics: ["t"], groupID: "refused")
        options.properties = ["session.timeout.ms": "4000"]
        _ = env.kafkaSource(options) { StampedDecoder() }.collect()
        XCTAssertThrowsError(try env.execute()) { error in
            XCTAssertTrue("\(error)".contains("refuses session.timeout.ms=4000"), "\(error)")
        }
    }

    func testStartingOffsetsEarliestAndLatest() throws {
        let cluster = try clusterWithRecords()
        let all = try read(cluster, group: "from-earliest", from: .earliest)
        XCTAssertEqual(Set(all.map(\.value)), Set((0..<100).map { "r\($0)" }))
        XCTAssertEqual(all.first { $0.value == "r7" }?.timestamp, 1_007_000, "the message timestamp reaches the decoder")
        XCTAssertEqual(try read(cluster, group: "from-latest", from: .latest), [])
    }

    func testATimeRangeReadsExactlyTheRecordsStampedWithinIt() throws {
        let cluster = try clusterWithRecords()
        let ranged = try read(cluster, group: "range", from: .timestamp(1_020_000), until: .untilTimestamp(1_060_000))
        XCTAssertEqual(ranged.map(\.value).sorted(), (20..<60).map { "r\($0)" }.sorted())
        let fromTime = try read(cluster, group: "from-time", from: .timestamp(1_090_500))
        XCTAssertEqual(fromTime.map(\.value).sorted(), (91..<100).map { "r\($0)" }.sorted())
        // A range past the last record, and one before the first, are empty and still end.
        XCTAssertEqual(try read(cluster, group: "late", from: .timestamp(2_000_000), until: .untilTimestamp(3_000_000)), [])
        XCTAssertEqual(try read(cluster, group: "early", from: .earliest, until: .untilTimestamp(1_000_000)), [])
        // A bound past the end reads to the end as it was at the start.
        XCTAssertEqual(try read(cluster, group: "open", from: .timestamp(1_098_000), until: .untilTimestamp(.max)).count, 2)
    }

    func testASourceThatDoesNotCommitLeavesTheGroupWithoutOffsets() throws {
        let cluster = try clusterWithRecords()
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("nocommit-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: state) }
        for commits in [true, false] {
            let env = StreamEnvironment(name: "nocommit", parallelism: 1)
            env.checkpointing = CheckpointConfig(directory: state + "/\(commits)", interval: .seconds(3600))
            var options = KafkaSourceOptions(brokers: cluster.bootstrapServers, topics: ["t"], groupID: "commits-\(commits)")
            options.commitsOffsets = commits
            let out = env.kafkaSource(options) { StampedDecoder() }.collect()
            let job = try env.start()
            let deadline = Date().addingTimeInterval(30)
            while out.count < 100 && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
            // Two checkpoints: the second completes after the first's commit was sent.
            _ = try job.triggerCheckpoint()
            _ = try job.triggerCheckpoint()
            let probe = try KafkaConsumer(properties: KafkaProperties(brokers: cluster.bootstrapServers).merging(["group.id": "commits-\(commits)"]))
            let partitions = [TopicPartition("t", 0), TopicPartition("t", 1)]
            var committed = try probe.committed(partitions)
            while commits && committed != [50, 50] && Date() < deadline {
                Thread.sleep(forTimeInterval: 0.05)
                committed = try probe.committed(partitions)
            }
            job.cancel()
            _ = try? job.wait()
            XCTAssertEqual(committed, commits ? [50, 50] : [KafkaOffset.invalid, KafkaOffset.invalid], "commitsOffsets = \(commits)")
        }
    }

    func testABoundedSourceWithMoreSubtasksThanPartitionsEndsAndReadsEverything() throws {
        let cluster = try clusterWithRecords()  // 2 partitions
        let env = StreamEnvironment(name: "wide", parallelism: 3)
        var options = KafkaSourceOptions(brokers: cluster.bootstrapServers, topics: ["t"], groupID: "wide")
        // The first subtask to finish leaves the group; the mock cluster rebalances the others
        // only once its session times out (45 s by default).
        options.properties = ["session.timeout.ms": "6000", "heartbeat.interval.ms": "500"]
        options.boundedness = .untilEndOfPartitions
        let out = env.kafkaSource(options) { StampedDecoder() }.collect()
        let job = try env.start()
        // The subtask the group gives nothing ends once the others leave it their partitions.
        let ended = DispatchSemaphore(value: 0)
        Thread { _ = try? job.wait(); ended.signal() }.start()
        XCTAssertEqual(ended.wait(timeout: .now() + 60), .success, "the bounded job did not end")
        XCTAssertEqual(Set(out.values.map(\.value)), Set((0..<100).map { "r\($0)" }))
        XCTAssertEqual(out.count, 100)
    }

    /// Event time end to end: records only in partition 0; partition 1 stays empty. Once
    /// partition 1 counts as idle, partition 0 alone moves the watermark and the event-time
    /// windows it passed fire while the (unbounded) job runs.
    func testAnIdlePartitionDoesNotHoldBackEventTimeWindows() throws {
        let cluster = try MockKafkaCluster(brokers: 1)
        try cluster.createTopic("w", partitions: 2)
        try cluster.createTopic("vigil_dead_letters", partitions: 1)
        let producer = try KafkaProducer(properties: KafkaProperties(brokers: cluster.bootstrapServers))
        for i in 1...25 {
            try producer.produce(topic: "w", partition: 0, key: nil, value: Array("r\(i)".utf8), timestampMs: Int64(i) * 1_000)
        }
        try producer.flush()
        let env = StreamEnvironment(name: "idle", parallelism: 1)
        var options = KafkaSourceOptions(brokers: cluster.bootstrapServers, topics: ["w"], groupID: "idle")
        options.partitionIdleTimeout = .milliseconds(300)
        let windows = env.kafkaSource(options) { StampedDecoder() }
            .keyBy { _ in "all" }
            .window(.tumbling(.seconds(10)))
            .aggregate(StatsAggregate { Double($0.timestamp) })
            .collect()
        let job = try env.start()
        let deadline = Date().addingTimeInterval(30)
        while windows.count < 2 && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        job.cancel()
        _ = try? job.wait()
        withExtendedLifetime(cluster) {}
        XCTAssertEqual(windows.values.map(\.window), [TimeWindow(start: 0, end: 10_000), TimeWindow(start: 10_000, end: 20_000)])
        XCTAssertEqual(windows.values.map(\.value.count), [9, 10], "records at 1 s … 9 s, then 10 s … 19 s")
    }

    func testAnUndeliverableRecordFailsTheFlushInsteadOfVanishing() throws {
        let cluster = try MockKafkaCluster(brokers: 1)
        try cluster.createTopic("out", partitions: 1)
        // TOPIC_AUTHORIZATION_FAILED (29) is not retriable: the record cannot be delivered.
        cluster.pushRequestErrors(apiKey: 0, Array(repeating: 29, count: 50))
        let producer = try KafkaProducer(properties: ["bootstrap.servers": cluster.bootstrapServers, "message.timeout.ms": "5000"])
        try producer.produce(topic: "out", key: nil, value: Array("x".utf8))
        XCTAssertThrowsError(try producer.flush()) { error in
            XCTAssertTrue("\(error)".contains("not delivered"), "\(error)")
        }
        XCTAssertEqual(producer.failedDeliveries, 1)
    }

    func testRecoveryRemovesOnlyStagedOutputNobodyWillCommit() throws {
        let cluster = try MockKafkaCluster(brokers: 1)
        try cluster.createTopic("out", partitions: 1)
        try cluster.createTopic("vigil_transaction_markers", partitions: 1)
        // The markers say subtask 0's checkpoint 2 reached Kafka (a crash came before its
        // staged file was deleted).
        let producer = try KafkaProducer(properties: KafkaProperties(brokers: cluster.bootstrapServers))
        try producer.produce(topic: "vigil_transaction_markers", partition: 0, key: Array("rec-0".utf8), value: Array("2 a1".utf8))
        try producer.flush()
        let staging = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-staging-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: staging) }
        var options = KafkaSinkOptions(brokers: cluster.bootstrapServers, topic: "out", transactionalIDPrefix: "rec")
        options.guarantee = .exactlyOnce
        options.stagingDirectory = staging
        var writer = try KafkaTransactionalWriter<String>(options: options, subtask: 0) { KafkaOutputRecord(value: Array($0.utf8)) }
        let kept = KafkaTransactionalWriter<String>.Transaction(markerKey: "rec-0", checkpoint: 4)
        let files = ["rec-0-2.staged",      // committed already: removed
                     "rec-0-4.staged",      // the restored checkpoint's: kept (committed in open)
                     "rec-0-5.staged",      // staged after the restored checkpoint: removed
                     "rec-0-6.staged.tmp",  // half-written: removed
                     "rec-1-5.staged",      // subtask 1 exists: its own business
                     "rec-2-3.staged",      // subtask 2 no longer exists, and its checkpoint 3 is covered:
                                            // another subtask may be committing it now — kept
                     "rec-2-7.staged",      // subtask 2, uncovered: removed
                     "other-0-5.staged"]    // another sink's
        for name in files { FileManager.default.createFile(atPath: staging + "/" + name, contents: Data([1])) }
        try writer.recover(restoredCheckpoint: 4, keeping: [kept], subtask: 0, parallelism: 2)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: staging).sorted(),
                       ["other-0-5.staged", "rec-0-4.staged", "rec-1-5.staged", "rec-2-3.staged"])
    }
}
