@testable import Ingest
import CRdKafka
import Foundation
import XCTest

/// librdkafka 2.0 stops fetching while a consumer's queue is over `queued.max.messages.kbytes`
/// and looks again only when its broker thread wakes: the consumer wakes it when it drains a
/// queue that held that much (`KafkaConsumer.wakeFetchers`). An earlier wake-up (resuming
/// partitions that were not paused) made librdkafka drop what it had fetched, and a bounded
/// read never ended; this checks that the wake-up used now loses and repeats nothing.
final class KafkaFetcherWakeTests: XCTestCase {
    func testDrainingAFullQueueWakesTheFetcherAndEveryMessageArrivesOnceInOrder() throws {
        let cluster = try MockKafkaCluster(brokers: 1)
        try cluster.createTopic("w", partitions: 4)
        let producer = try KafkaProducer(properties: KafkaProperties(brokers: cluster.bootstrapServers).merging(["linger.ms": "5"]))
        let perPartition = 32
        for i in 0..<perPartition {
            for p in 0..<4 {
                var value = [UInt8](repeating: UInt8(truncatingIfNeeded: i), count: 64 * 1024)
                value.replaceSubrange(0..<8, with: withUnsafeBytes(of: Int64(i).littleEndian, Array.init))
                try producer.produce(topic: "w", partition: Int32(p), key: nil, value: value)
            }
        }
        try producer.flush()

        var props = KafkaProperties(brokers: cluster.bootstrapServers)
        props["group.id"] = "wake"
        props["queued.max.messages.kbytes"] = "512"  // 8 messages: the queue fills at once
        let consumer = try KafkaConsumer(properties: props)
        try consumer.subscribe(["w"])
        var next = [Int64](repeating: 0, count: 4)
        let deadline = Date().addingTimeInterval(60)
        while next.reduce(0, +) < Int64(4 * perPartition) && Date() < deadline {
            guard let m = try consumer.poll(timeoutMs: 100) else { continue }
            defer { rd_kafka_message_destroy(m) }
            guard m.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR else { continue }
            let p = Int(m.pointee.partition)
            let seq = UnsafeRawPointer(m.pointee.payload!).loadUnaligned(as: Int64.self)
            XCTAssertEqual(seq, next[p], "partition \(p): message \(seq) where \(next[p]) was due")
            XCTAssertEqual(m.pointee.offset, next[p])
            next[p] = seq + 1
            // From the first message on, every answer takes longer than a poll waits: the
            // consumer then finds the queue it drained empty and wakes the fetcher. (Without
            // it, the fetcher sometimes kept the queue from ever running empty — a run under
            // load — and the test never reached the wake-up it is about.)
            if next.reduce(0, +) == 1 { cluster.setRoundTripTime(broker: 1, milliseconds: 150) }
        }
        XCTAssertEqual(next, [Int64](repeating: Int64(perPartition), count: 4), "every message of every partition, once")
        XCTAssertGreaterThan(consumer.fetcherWakes, 0, "the consumer drained full queues: it should have woken the fetcher")
        cluster.setRoundTripTime(broker: 1, milliseconds: 0)
        consumer.close()
    }

    /// The wake-up waits for the broker's answer; on a slow broker that took the source thread
    /// a second (the request's timeout) each time. It now waits on a thread of its own.
    func testWakingTheFetcherDoesNotHoldUpThePollingThreadWhenTheBrokerIsSlow() throws {
        let cluster = try MockKafkaCluster(brokers: 1)
        try cluster.createTopic("slow", partitions: 2)
        let producer = try KafkaProducer(properties: KafkaProperties(brokers: cluster.bootstrapServers).merging(["linger.ms": "5"]))
        for i in 0..<64 {
            try producer.produce(topic: "slow", partition: Int32(i % 2), key: nil, value: [UInt8](repeating: 1, count: 64 * 1024))
        }
        try producer.flush()

        var props = KafkaProperties(brokers: cluster.bootstrapServers)
        props["group.id"] = "slow"
        props["queued.max.messages.kbytes"] = "512"
        let consumer = try KafkaConsumer(properties: props)
        try consumer.subscribe(["slow"])
        var received = 0
        var slowest = 0.0
        let deadline = Date().addingTimeInterval(60)
        while consumer.fetcherWakes < 2 && Date() < deadline {
            let started = Date()
            let wakesBefore = consumer.fetcherWakes
            let m = try consumer.poll(timeoutMs: 0)
            if consumer.fetcherWakes > wakesBefore { slowest = max(slowest, Date().timeIntervalSince(started)) }
            guard let m else { usleep(1000); continue }
            rd_kafka_message_destroy(m)
            received += 1
            // Once the first messages are in, every answer takes 1.5 s.
            if received == 1 { cluster.setRoundTripTime(broker: 1, milliseconds: 1_500) }
        }
        XCTAssertGreaterThanOrEqual(consumer.fetcherWakes, 2, "the consumer drained full queues: it should have woken the fetcher")
        XCTAssertLessThan(slowest, 0.5, "a poll that woke the fetchers waited \(slowest) s for the broker")
        cluster.setRoundTripTime(broker: 1, milliseconds: 0)
        consumer.close()
    }
}
