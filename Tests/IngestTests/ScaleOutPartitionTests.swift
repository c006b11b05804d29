@testable import Ingest
import Foundation
import Stream
import XCTest

/// A stateful partition of a scaled-out job on its own, without Kafka: repartition messages are
/// built by hand and fed to the task, which runs its topology on the embedded executor.
final class ScaleOutPartitionTests: XCTestCase {
    struct Event: Sendable, StateCodable, Equatable {
        var key: String
        var value: Int64
        func encode(to w: inout StateWriter) { w.write(key); w.write(value) }
        static func decode(from r: inout StateReader) throws -> Event { Event(key: try r.readString(), value: try r.read()) }
    }
    typealias Record = (place: RepartitionBatch.Place, time: Timestamp, value: Event)

    var work: String!
    let counters = ScaleOutCounters()

    override func setUpWithError() throws {
        work = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-partition-\(UUID())").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: work) }

    /// Sums per key in 1 s windows, as "key window sum count".
    func task(_ name: String, inputs: Int32 = 1, progress: PartitionProgress = .empty, from checkpoint: String? = nil) throws -> PartitionTask<Event, String> {
        try PartitionTask(partition: 0, directory: work + "/" + name, inputPartitions: inputs, progress: progress, restoreFrom: checkpoint) { events in
            events.keyBy(\.key).window(.tumbling(.seconds(1))).aggregate(StatsAggregate { Double($0.value) }) { k, w, s in
                "\(k) \(w.start) \(Int(s.sum)) \(s.count)"
            }
        }
    }

    /// A repartition message from input partition `p`: one record per offset, value = offset.
    func batch(from p: Int32, offsets: Range<Int64>, watermark: Timestamp, idle: Bool = false, key: String = "a") -> [UInt8] {
        let records: [Record] = offsets.map { (RepartitionBatch.Place(offset: $0, index: 0), 100 * $0, Event(key: key, value: $0)) }
        var w = StateWriter()
        RepartitionBatch.encode(inputPartition: p, watermark: watermark, idle: idle, records: records[...], into: &w)
        return w.bytes
    }

    func testRecordsWrittenAgainAfterAFailoverAreAppliedOnce() throws {
        let t = try task("a")
        try t.take(batch(from: 0, offsets: 0..<10, watermark: 0), offset: 0, counters: counters)
        // The input stage's successor starts again at offset 5 and goes on to 14.
        try t.take(batch(from: 0, offsets: 5..<15, watermark: 5_000), offset: 1, counters: counters)
        try t.run()
        XCTAssertEqual(t.output, ["a 0 45 10", "a 1000 60 5"], "offsets 0-9 once in the first second, 10-14 in the next")
        XCTAssertEqual(counters.repeated.load(ordering: .relaxed), 5)
        XCTAssertEqual(t.progress.applied[0], RepartitionBatch.Place(offset: 14, index: 0))
        XCTAssertEqual(t.progress.position, 2)
    }

    func testEventTimeWaitsForEveryInputPartitionAndSkipsIdleOnes() throws {
        let t = try task("a", inputs: 2)
        try t.take(batch(from: 0, offsets: 0..<5, watermark: 5_000), offset: 0, counters: counters)
        try t.run()
        XCTAssertEqual(t.output, [], "input partition 1 was never heard from: event time holds")
        try t.take(batch(from: 1, offsets: 0..<0, watermark: 1_500), offset: 1, counters: counters)
        try t.run()
        XCTAssertEqual(t.output, ["a 0 10 5"], "the least of the two: 1,500")
        try t.take(batch(from: 0, offsets: 20..<25, watermark: 9_000), offset: 2, counters: counters)
        try t.take(batch(from: 1, offsets: 0..<0, watermark: 1_500, idle: true), offset: 3, counters: counters)
        try t.run()
        XCTAssertEqual(t.output, ["a 0 10 5", "a 2000 110 5"], "an idle input partition does not hold event time back")
    }

    func testALowerWatermarkFromASuccessorDoesNotMoveEventTimeBack() throws {
        let t = try task("a")
        try t.take(batch(from: 0, offsets: 0..<30, watermark: 2_500), offset: 0, counters: counters)
        try t.take(batch(from: 0, offsets: 10..<12, watermark: 900), offset: 1, counters: counters)
        XCTAssertEqual(t.progress.watermarks[0]?.watermark, 2_500)
    }

    /// A commit's checkpoint, bundled as for the changelog and unpacked elsewhere, restores a
    /// task that goes on exactly as the original does.
    func testStateRestoredFromAChangelogBundleGoesOnAsTheOriginal() throws {
        let original = try task("a")
        try original.take(batch(from: 0, offsets: 0..<7, watermark: 0), offset: 0, counters: counters)
        try original.run()
        let bundle = try StateBundle.pack(directory: try original.checkpoint())
        try StateBundle.unpack(bundle, into: work + "/restored-checkpoint")
        let restored = try task("b", progress: original.progress, from: work + "/restored-checkpoint")
        for t in [original, restored] {
            try t.take(batch(from: 0, offsets: 5..<15, watermark: 3_000), offset: 1, counters: counters)
            try t.run()
        }
        XCTAssertEqual(restored.output, original.output)
        XCTAssertEqual(original.output, ["a 0 45 10", "a 1000 60 5"])
    }

    /// A pair's records split into several messages: event time may move on between any two
    /// of them, so only the last may carry the new watermark. (When every message carried it,
    /// a stateful partition that ran between the first and the second dropped the second's
    /// records as late: a benchmark run hung waiting for them.)
    func testRecordsSplitIntoSeveralMessagesAreNotLateByTheirOwnWatermark() throws {
        let records: [Record] = (0..<5_000).map { (RepartitionBatch.Place(offset: Int64($0), index: 0), 100 * Int64($0), Event(key: "a", value: 1)) }
        var messages: [[UInt8]] = []
        RepartitionBatch.encodeMessages(inputPartition: 0, watermark: 497_899, idle: true, previous: 1_000,
                                        records: records, perMessage: 2_000) { messages.append($0.bytes) }
        XCTAssertEqual(messages.count, 3)
        let headers = try messages.map { m -> RepartitionBatch.Header in
            var r = StateReader(m)
            return try RepartitionBatch.readHeader(&r)
        }
        XCTAssertEqual(headers.map(\.watermark), [1_000, 1_000, 497_899])
        XCTAssertEqual(headers.map(\.idle), [false, false, true])
        XCTAssertEqual(headers.map(\.count), [2_000, 2_000, 1_000])

        let t = try task("a")
        for (i, m) in messages.enumerated() {
            try t.take(m, offset: Int64(i), counters: counters)
            try t.run()  // event time moves on after each message
        }
        XCTAssertEqual(t.output.count, 497, "every 1 s window before the watermark fired")
        XCTAssertEqual(t.output.last, "a 496000 10 10")
        XCTAssertEqual(t.output.map { Int($0.split(separator: " ")[3])! }.reduce(0, +), 4_970, "no record was late")
    }

    func testABundleThatIsNotOneOrTamperedWithIsRefused() throws {
        XCTAssertThrowsError(try StateBundle.unpack(Array("hello".utf8), into: work + "/x"))
        var w = StateWriter()
        w.write(bytes: StateBundle.magic)
        w.writeVarint(1)
        w.write("../escape")
        w.write(bytes: [1, 2, 3])
        XCTAssertThrowsError(try StateBundle.unpack(w.bytes, into: work + "/y")) { error in
            XCTAssertTrue("\(error)".contains("bad file name"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: work + "/escape"))
    }

    func testProgressRoundTrips() throws {
        var p = PartitionProgress(transaction: "g-stateful-3/ab12", position: 42, applied: [0: .init(offset: 7, index: 2), 5: .init(offset: 99, index: 0)],
                                  watermarks: [0: .init(watermark: 1_000, idle: false), 5: .init(watermark: .min, idle: true)],
                                  chunks: 3, bundleChecksum: 0xdead_beef)
        p.changelogStart = 17
        XCTAssertEqual(try PartitionProgress.decode(p.encode()), p)
    }
}
