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

    func testUserSettingsWinOverVigilsDefaults() {
        let p = KafkaProperties.effectiveConsumerProperties(["fetch.wait.max.ms": "500", "auto.offset.reset": "latest"])
        XCTAssertEqual(p["fetch.wait.max.ms"], "500")
        XCTAssertEqual(p["auto.offset.reset"], "latest")
        XCTAssertEqual(p["enable.auto.commit"], "false")
    }
}
