@testable import Ingest
import Foundation
import Stream
import XCTest

/// Event time per partition, and which positions a checkpoint holds — on the splits alone,
/// with the clock given by the test.
final class KafkaSplitsTests: XCTestCase {
    let ms: UInt64 = 1_000_000

    func splits(idleMs: Int64 = 100, lagMs: Int64 = 0) -> KafkaSplits {
        var o = KafkaSourceOptions(brokers: "unused:9092", topics: ["t"], groupID: "g")
        o.partitionIdleTimeout = .milliseconds(idleMs)
        o.outOfOrderness = .milliseconds(lagMs)
        return KafkaSplits(options: o, logger: .init(label: "test"))
    }

    func testTheWatermarkIsTheLeastOfActivePartitionsAndIdlePartitionsDoNotHoldItBack() {
        let s = splits(idleMs: 100, lagMs: 500)
        let p0 = s.addSplit(TopicPartition("t", 0), startingAt: 0, now: 0)
        let p1 = s.addSplit(TopicPartition("t", 1), startingAt: 0, now: 0)
        s.consumed(slot: p0, offset: 0, maxTimestamp: 10_000, now: 90 * ms)
        XCTAssertNil(s.watermark(now: 95 * ms), "partition 1 has no records yet and is not idle: it holds the watermark")
        XCTAssertEqual(s.watermark(now: 101 * ms), 10_000 - 500 - 1, "partition 1 idle: partition 0 alone decides")
        s.consumed(slot: p1, offset: 0, maxTimestamp: 5_000, now: 102 * ms)
        XCTAssertNil(s.watermark(now: 103 * ms), "a late partition waking up does not move the watermark back")
        s.consumed(slot: p1, offset: 1, maxTimestamp: 20_000, now: 104 * ms)
        s.consumed(slot: p0, offset: 1, maxTimestamp: 30_000, now: 104 * ms)
        XCTAssertEqual(s.watermark(now: 105 * ms), 20_000 - 500 - 1, "both active: the least")
        XCTAssertNil(s.watermark(now: 500 * ms), "all idle: nothing new read, so no new watermark")
    }

    /// Every record arrives before the empty partition counts as idle; then everything is
    /// idle. The records read must still move the watermark (a CI run's windows never fired).
    func testWhenEveryPartitionIsIdleTheWatermarkStillCoversTheRecordsRead() {
        let s = splits(idleMs: 100, lagMs: 0)
        let p0 = s.addSplit(TopicPartition("t", 0), startingAt: 0, now: 0)
        _ = s.addSplit(TopicPartition("t", 1), startingAt: 0, now: 0)
        s.consumed(slot: p0, offset: 24, maxTimestamp: 25_000, now: 10 * ms)
        XCTAssertNil(s.watermark(now: 20 * ms), "partition 1 is not idle yet")
        XCTAssertEqual(s.watermark(now: 200 * ms), 25_000 - 1, "all idle: partition 0's records decide")
        XCTAssertNil(s.watermark(now: 300 * ms), "and only once")
    }

    func testACheckpointHoldsReadPositionsAndThoseOfPartitionsHandedAway() throws {
        let s = splits()
        let p0 = s.addSplit(TopicPartition("t", 0), startingAt: 0, now: 0)
        let p1 = s.addSplit(TopicPartition("t", 1), startingAt: 0, now: 0)
        s.consumed(slot: p0, offset: 41, maxTimestamp: 1, now: 1)
        s.consumed(slot: p1, offset: 7, maxTimestamp: 1, now: 1)
        s.partitionsRevoked([TopicPartition("t", 1)])
        var w = StateWriter()
        s.writePositions(into: &w)
        let restored = splits()
        var r = StateReader(w.bytes)
        try restored.restorePositions(from: &r)
        var again = StateWriter()
        restored.writePositions(into: &again)
        XCTAssertEqual(again.bytes, w.bytes, "positions survive a restore, the handed-away partition's included")
        XCTAssertEqual(PartitionHandovers.shared.position(group: "g", TopicPartition("t", 1), since: s.createdAt), 8,
                       "another subtask of this process resumes partition 1 where this one stopped")
    }

    func testAHandoverOfAnEarlierRunInThisProcessIsIgnored() {
        let group = "stale-\(UUID())"
        let tp = TopicPartition("t", 0)
        PartitionHandovers.shared.handOver(group: group, tp, at: 500, now: 10)
        XCTAssertEqual(PartitionHandovers.shared.position(group: group, tp, since: 5), 500)
        // A run started after it (a job restarted from its checkpoint) must not skip to 500.
        XCTAssertNil(PartitionHandovers.shared.position(group: group, tp, since: 11))
    }
}
