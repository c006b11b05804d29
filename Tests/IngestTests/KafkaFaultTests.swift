import Foundation
import Ingest
import Stream
import VigilTestSupport
import XCTest

/// Faults injected through the mock cluster's API while a consume → keyed count →
/// exactly-once produce job runs in this process: brokers going down and up, partition
/// leaders moving, requests failing. The job must ride them out and lose nothing.
final class KafkaFaultTests: XCTestCase {
    struct Numbered: Sendable {
        var seq: Int
        var key: String
    }

    struct NumberedDecoder: KafkaMessageDecoder {
        struct Malformed: Error {}
        mutating func decode(_ m: KafkaMessage, emit: (Numbered, Timestamp) throws -> Void) throws {
            let f = String(decoding: m.value, as: UTF8.self).split(separator: " ")
            guard f.count == 2, let seq = Int(f[0]) else { throw Malformed() }
            try emit(Numbered(seq: seq, key: String(f[1])), m.timestamp ?? 0)
        }
    }

    func testTheJobRidesOutBrokerOutagesLeaderMovesAndRequestErrorsWithoutLosingRecords() throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-faults-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: work) }
        let cluster = try MockKafkaCluster(brokers: 3)
        try cluster.createTopic("in", partitions: 4, replicationFactor: 3)
        // 32 output partitions and keyed output: the mock keeps at most 5 MB per partition, and
        // transactions the faults abort stay in the log. With 8, one CI run lost exactly the
        // oldest 10,000 records (seq 3, 4, 6, …): truncation, by every sign; the check below
        // names it now. With 32 but no keys, another run truncated partition 0.
        try cluster.createTopic("out", partitions: 32, replicationFactor: 3)
        try cluster.createTopic("vigil_transaction_markers", partitions: 1, replicationFactor: 3)
        try cluster.createTopic("vigil_dead_letters", partitions: 1, replicationFactor: 3)
        let brokers = cluster.bootstrapServers
        let total = 200_000
        let producer = try KafkaProducer(properties: KafkaProperties(brokers: brokers))
        for seq in 0..<total {
            let key = "k\(seq % 53)"
            try producer.produce(topic: "in", key: Array(key.utf8), value: Array("\(seq) \(key)".utf8))
        }
        try producer.flush()

        let env = StreamEnvironment(name: "faults", parallelism: 2)
        env.checkpointing = CheckpointConfig(directory: work + "/checkpoints", interval: .milliseconds(200))
        var source = KafkaSourceOptions(brokers: brokers, topics: ["in"], groupID: "faults")
        source.boundedness = .untilEndOfPartitions
        var sink = KafkaSinkOptions(brokers: brokers, topic: "out", transactionalIDPrefix: "faults")
        sink.guarantee = .exactlyOnce
        sink.stagingDirectory = work + "/staging"
        env.kafkaSource(source) { NumberedDecoder() }
            .keyBy(\.key)
            .process(name: "count") { (r: Numbered, ctx: KeyedContext<String, String>) in
                let count = try ctx.valueState("count", Int.self)
                let n = (count.value ?? 0) + 1
                count.update(n)
                try ctx.emit("key=\(r.key) seq=\(r.seq) count=\(n)")
            }
            // Keyed output: records without a key go to one "sticky" partition per batch
            // (librdkafka's partitioner), which once filled partition 0 past the mock's 5 MB.
            .sinkToKafka(sink) { KafkaOutputRecord(key: Array($0.split(separator: " ")[0].utf8), value: Array($0.utf8)) }
        let job = try env.start()

        // The faults, one after the other while the job runs (Kafka protocol API keys:
        // Produce 0, Fetch 1, OffsetCommit 8; error codes: NOT_LEADER_OR_FOLLOWER 6,
        // REQUEST_TIMED_OUT 7, COORDINATOR_NOT_AVAILABLE 15, NOT_ENOUGH_REPLICAS 19).
        let faults = Thread {
            Thread.sleep(forTimeInterval: 0.3)
            cluster.pushRequestErrors(apiKey: 1, [6, 7, 6])
            cluster.pushRequestErrors(apiKey: 0, [19, 7])
            cluster.pushRequestErrors(apiKey: 8, [15])
            Thread.sleep(forTimeInterval: 0.3)
            cluster.setLeader(topic: "in", partition: 0, broker: 2)
            cluster.setLeader(topic: "out", partition: 1, broker: 3)
            Thread.sleep(forTimeInterval: 0.3)
            cluster.setBrokerDown(3)
            Thread.sleep(forTimeInterval: 1.0)
            cluster.setBrokerUp(3)
            cluster.setLeader(topic: "in", partition: 1, broker: 1)
        }
        faults.start()
        _ = try job.wait()
        XCTAssertGreaterThan(job.completedCheckpoints.count, 0)

        XCTAssertEqual(try ChildProcesses.truncatedPartitions(brokers: brokers, topic: "out"), [],
                       "the mock cluster dropped old output (5 MB per partition): the test's output must fit")
        let output = try ChildProcesses.kcatReadCommittedByMarkers(brokers: brokers, topic: "out")
        var seen = [Int](repeating: 0, count: total)
        for line in output {
            let f = line.split(separator: " ")
            if f.count == 3, let seq = Int(f[1].dropFirst(4)), seq < total { seen[seq] += 1 }
        }
        let missing = seen.indices.filter { seen[$0] == 0 }
        let duplicated = seen.indices.filter { seen[$0] > 1 }
        XCTAssertEqual(missing.count, 0, "lost records, e.g. seq \(missing.prefix(5))")
        XCTAssertEqual(duplicated.count, 0, "duplicated records, e.g. seq \(duplicated.prefix(5))")
        withExtendedLifetime(cluster) {}
    }
}
