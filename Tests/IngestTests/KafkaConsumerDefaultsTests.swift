import CRdKafka
import XCTest
@testable import Ingest

/// A fetch response may fill at most an eighth of the prefetch queue (so fetching and
/// consuming overlap), never less than `message.max.bytes` (librdkafka refuses that), and a
/// user's own `fetch.max.bytes` is kept.
final class KafkaConsumerDefaultsTests: XCTestCase {
    func testFetchSizeFollowsThePrefetchQueue() throws {
        func fetchMax(_ user: KafkaProperties) -> String? {
            KafkaProperties.effectiveConsumerProperties(user)["fetch.max.bytes"]
        }
        XCTAssertEqual(fetchMax([:]), "8388608")  // librdkafka's 64 MB queue
        XCTAssertEqual(fetchMax(["queued.max.messages.kbytes": "262144"]), "33554432")
        XCTAssertEqual(fetchMax(["queued.max.messages.kbytes": "1024"]), "1000000")
        XCTAssertEqual(fetchMax(["message.max.bytes": "10000000"]), "10000000")
        XCTAssertEqual(fetchMax(["fetch.max.bytes": "52428800"]), "52428800")
        // librdkafka checks fetch.max.bytes against message.max.bytes when a client is made.
        for user: KafkaProperties in [[:], ["queued.max.messages.kbytes": "1024"], ["message.max.bytes": "10000000"],
                                      ["queued.max.messages.kbytes": "2097151"]] {
            let conf = try KafkaProperties.effectiveConsumerProperties(user).merging(["group.id": "g"]).makeConf()
            var errstr = [CChar](repeating: 0, count: 512)
            let rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, &errstr, errstr.count)
            XCTAssertNotNil(rk, "\(user.entries): " + String(decoding: errstr.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            if let rk { rd_kafka_destroy(rk) } else { rd_kafka_conf_destroy(conf) }
        }
    }

    /// The consumer every Kafka source and scale-out stage makes runs with these settings:
    /// read back from librdkafka's own configuration of the client.
    func testTheConsumerRunsWithTheDerivedFetchSize() throws {
        func effective(_ key: String, _ consumer: KafkaConsumer) -> String? {
            var value = [CChar](repeating: 0, count: 64)
            var size = value.count
            guard rd_kafka_conf_get(rd_kafka_conf(consumer.handle), key, &value, &size) == RD_KAFKA_CONF_OK else { return nil }
            return String(decoding: value.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        let plain = try KafkaConsumer(properties: ["group.id": "defaults-test"])
        XCTAssertEqual(effective("fetch.max.bytes", plain), "8388608")
        XCTAssertEqual(effective("fetch.wait.max.ms", plain), "25")
        let chosen = try KafkaConsumer(properties: ["group.id": "defaults-test", "fetch.max.bytes": "1048576"])
        XCTAssertEqual(effective("fetch.max.bytes", chosen), "1048576")
    }

    func testUserSettingsWinOverVigilsDefaults() {
        let p = KafkaProperties.effectiveConsumerProperties(["fetch.wait.max.ms": "500", "auto.offset.reset": "latest"])
        XCTAssertEqual(p["fetch.wait.max.ms"], "500")
        XCTAssertEqual(p["auto.offset.reset"], "latest")
        XCTAssertEqual(p["enable.auto.commit"], "false")
    }
}
