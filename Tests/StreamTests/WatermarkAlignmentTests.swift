import XCTest
@testable import Stream

/// Watermark alignment between the splits of a source: a split further ahead of the slowest
/// than the allowed drift waits; finished and idle splits do not hold the others back.
final class WatermarkAlignmentTests: XCTestCase {
    func testASplitAheadOfTheSlowestByMoreThanTheDriftWaitsUntilItCatchesUp() {
        let alignment = SourceSplitAlignment(splits: 3)
        let worker = WorkerParker()
        XCTAssertTrue(alignment.mayRead(split: 0, maxDrift: 100, orWake: worker), "a split with no watermark yet may read")
        alignment.report(split: 0, watermark: 500)
        XCTAssertFalse(alignment.mayRead(split: 0, maxDrift: 100, orWake: worker),
                       "ahead of splits that have not started: they start together")

        let before = worker.epoch
        alignment.report(split: 1, watermark: 450)
        XCTAssertEqual(worker.epoch, before, "the slowest split (2) has not moved: nobody is woken")
        alignment.report(split: 2, watermark: 390)
        XCTAssertGreaterThan(worker.epoch, before, "the slowest split advanced: the waiting worker is woken")
        XCTAssertFalse(alignment.mayRead(split: 0, maxDrift: 100, orWake: worker), "500 is more than 100 ahead of 390")
        alignment.report(split: 2, watermark: 400)
        XCTAssertTrue(alignment.mayRead(split: 0, maxDrift: 100, orWake: worker), "500 is within 100 of 400")

        alignment.report(split: 0, watermark: 900)
        XCTAssertFalse(alignment.mayRead(split: 0, maxDrift: 100, orWake: nil))
        alignment.setExcluded(split: 2, true)  // finished (or idle)
        XCTAssertFalse(alignment.mayRead(split: 0, maxDrift: 100, orWake: nil), "split 1 at 450 still holds it")
        alignment.setExcluded(split: 1, true)
        XCTAssertTrue(alignment.mayRead(split: 0, maxDrift: 100, orWake: nil), "no active split left to wait for")
        alignment.setExcluded(split: 1, false)  // active again
        XCTAssertFalse(alignment.mayRead(split: 0, maxDrift: 100, orWake: nil))
    }

    /// Two splits whose event time advances at different speeds per record: split 0 (the
    /// collection's even blocks) 10 ms per record, split 1 (odd blocks) 1 ms. Read batch by
    /// batch in turn, split 0 runs far ahead in event time; aligned, it stays within the drift
    /// plus one batch.
    struct Reading: Sendable {
        var split: Int
        var ts: Timestamp
        init(_ i: Int) {
            let block = CollectionReader<Reading>.blockLength
            split = (i / block) % 2
            let position = (i / block / 2) * block + i % block  // within its split
            ts = Timestamp(split == 0 ? position * 10 : position)
        }
    }

    func testAlignmentBoundsHowFarOneSplitRunsAheadOfTheOther() throws {
        func largestLead(alignedWithin drift: Timestamp?) throws -> Timestamp {
            let env = StreamEnvironment(name: "alignment", parallelism: 2)
            env.exchange.batchSize = 10
            let elements = (0..<(8 * CollectionReader<Reading>.blockLength)).map(Reading.init)
            let lastOfSplit1 = elements.filter { $0.split == 1 }.map(\.ts).max()!
            var watermarks = WatermarkStrategy<Reading>.ascending { $0.ts }
            if let drift { watermarks = watermarks.withWatermarkAlignment(maxDrift: .milliseconds(drift)) }
            let arrived = env.fromCollection(elements, watermarks: watermarks)
                .map(parallelism: 1) { "\($0.split) \($0.ts)" }
                .collect()
            let run = try env.embedded()
            try run.runUntilIdle()
            XCTAssertEqual(arrived.count, elements.count, "alignment must not lose or hold records for good")
            var latest = [Timestamp](repeating: 0, count: 2)
            var lead: Timestamp = 0
            for line in arrived.values {
                let parts = line.split(separator: " ").map { Int($0)! }
                latest[parts[0]] = max(latest[parts[0]], Timestamp(parts[1]))
                // Only while both are reading: at the end split 1 is alone.
                if latest[1] < lastOfSplit1 { lead = max(lead, latest[0] - latest[1]) }
            }
            return lead
        }
        let unaligned = try largestLead(alignedWithin: nil)
        let aligned = try largestLead(alignedWithin: 100)
        XCTAssertGreaterThan(unaligned, 10_000, "without alignment split 0 runs far ahead (the test must be able to fail)")
        // One batch of split 0 spans 10 records x 10 ms; the watermark trails by 1 ms.
        XCTAssertLessThanOrEqual(aligned, 100 + 100 + 1, "aligned, the lead stays within the drift and one batch")
    }
}
