@testable import Ingest
import Foundation
import Stream
import XCTest

/// The session timeout a scaled-out job asks for: the shortest step the group coordinator
/// accepts (a dead process's partitions move one session timeout after its death). Real
/// brokers refuse timeouts below `group.min.session.timeout.ms`; the mock cluster refuses
/// nothing, so the refusal is injected as the coordinator's answer to JoinGroup.
final class ScaleOutSessionTimeoutTests: XCTestCase {
    static let joinGroup: Int16 = 11
    static let invalidSessionTimeout: Int32 = 26

    var cluster: MockKafkaCluster!
    var work: String!

    override func setUpWithError() throws {
        cluster = try MockKafkaCluster(brokers: 1)
        for (topic, n) in [("in", 1), ("out", 2), ("g-repartition", 2), ("g-changelog", 2)] { try cluster.createTopic(topic, partitions: n) }
        work = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-session-\(UUID())").path
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: work) }

    func job(properties: KafkaProperties = [:]) throws -> ScaleOutJob<KeyedReadingDecoder, String, String> {
        var options = ScaleOutOptions(brokers: cluster.bootstrapServers, group: "g", inputTopic: "in", outputTopic: "out",
                                      repartitionPartitions: 2, stateDirectory: work)
        options.outOfOrderness = .milliseconds(0)
        options.properties = properties
        return try ScaleOutJob(options, decoder: { KeyedReadingDecoder() }, key: \.key) { readings in
            readings.window(.tumbling(.seconds(1))).aggregate(StatsAggregate { _ in 1 }) { k, w, s in "\(k) \(w.start) \(s.count)" }
        } encode: { KafkaOutputRecord(value: Array($0.utf8)) }
    }

    func output() throws -> [String] {
        try KafkaAdmin.readToEnd(brokers: cluster.bootstrapServers, topic: "out", partitions: 2, readCommitted: true)
            .map { String(decoding: $0.value, as: UTF8.self) }
    }

    func testARefusedSessionTimeoutIsRaisedToTheNextStepAndTheJobRuns() throws {
        cluster.pushRequestErrors(apiKey: Self.joinGroup, [Self.invalidSessionTimeout])
        let producer = try KafkaProducer(properties: KafkaProperties(brokers: cluster.bootstrapServers))
        for line in ["a 100", "a 200", "b 5000"] { try producer.produce(topic: "in", partition: 0, key: nil, value: Array(line.utf8)) }
        try producer.flush()

        let job = try job()
        XCTAssertEqual(job.sessionTimeoutMs, ScaleOutOptions.sessionTimeoutSteps[0])
        let deadline = Date().addingTimeInterval(60)
        var lastLook = Date.distantPast
        var seen: [String] = []
        try job.run {
            guard Date().timeIntervalSince(lastLook) > 0.5 else { return false }
            lastLook = Date()
            seen = (try? output()) ?? []
            return !seen.isEmpty || Date() > deadline
        }
        XCTAssertEqual(job.sessionTimeoutMs, ScaleOutOptions.sessionTimeoutSteps[1])
        XCTAssertEqual(seen, ["a 0 2"])
    }

    func testASessionTimeoutTheUserChoseIsKeptAndTheRefusalNamesIt() throws {
        cluster.pushRequestErrors(apiKey: Self.joinGroup, [Self.invalidSessionTimeout])
        let job = try job(properties: ["session.timeout.ms": "4000"])
        let deadline = Date().addingTimeInterval(30)
        XCTAssertThrowsError(try job.run { Date() > deadline }) { error in
            XCTAssertTrue("\(error)".contains("refuses session.timeout.ms=4000"), "\(error)")
        }
        XCTAssertEqual(job.sessionTimeoutMs, 4000)
    }
}
