import XCTest
@testable import Stream

/// A record writer lets a watermark wait behind a channel's partial batch (so that a watermark
/// per source batch does not cut every batch short), but never sends it ahead of a record that
/// preceded it, and holds it for at most one more watermark or a control event.
final class WatermarkDeferralTests: XCTestCase {
    /// Round-robin over two channels with batches of 4: even values go to channel 0, odd to 1.
    private func makeWriter() -> (RecordWriter<Int>, TaskInbox) {
        let inbox = TaskInbox(channels: 2, capacityPerChannel: .max)
        let writer = RecordWriter<Int>(targets: (0..<2).map { ChannelTarget(inbox: inbox, channel: $0) },
                                       partitioning: .rebalance, keyHashOf: nil, maxParallelism: 128,
                                       batchSize: 4, metrics: TaskMetrics(taskName: "deferral"))
        return (writer, inbox)
    }

    /// What each channel received so far, in order: "[0 2]" for a batch, "W10", "B1".
    private func received(_ inbox: TaskInbox) -> [[String]] {
        var byChannel: [[String]] = [[], []]
        while case .element(let element, let channel) = inbox.receive(deadlineNanos: 0) {
            switch element {
            case .records(let payload, _):
                let values = (payload as! ContiguousArray<StreamRecord<Int>>).map { String($0.value) }
                byChannel[channel].append("[" + values.joined(separator: " ") + "]")
            case .watermark(let w): byChannel[channel].append("W\(w)")
            case .barrier(let id): byChannel[channel].append("B\(id)")
            default: byChannel[channel].append("\(element)")
            }
        }
        return byChannel
    }

    func testAWatermarkWaitsForItsChannelsBatchToFill() throws {
        let (writer, inbox) = makeWriter()
        for v in 0..<2 { try writer.push.call(v, Timestamp(v)) }
        try writer.processWatermark(10, input: 0)
        XCTAssertEqual(received(inbox), [[], []], "both channels hold a partial batch: the watermark waits")
        for v in 2..<8 { try writer.push.call(v, Timestamp(v)) }
        // Each batch filled with records from both sides of the watermark; it follows them.
        XCTAssertEqual(received(inbox), [["[0 2 4 6]", "W10"], ["[1 3 5 7]", "W10"]])
        try writer.processWatermark(20, input: 0)
        XCTAssertEqual(received(inbox), [["W20"], ["W20"]], "empty batches: sent at once")
    }

    func testTheNextWatermarkSendsAPartialBatchWithTheLatestWatermark() throws {
        let (writer, inbox) = makeWriter()
        for v in 0..<3 { try writer.push.call(v, Timestamp(v)) }
        try writer.processWatermark(10, input: 0)
        try writer.push.call(3, 3)
        XCTAssertEqual(received(inbox), [[], []])
        try writer.processWatermark(20, input: 0)
        XCTAssertEqual(received(inbox), [["[0 2]", "W20"], ["[1 3]", "W20"]])
    }

    func testAChannelWithoutRecordsGetsTheWatermarkAtOnce() throws {
        let (writer, inbox) = makeWriter()
        try writer.push.call(0, 0)
        try writer.processWatermark(10, input: 0)
        XCTAssertEqual(received(inbox), [[], ["W10"]])
    }

    func testAControlEventSendsTheWaitingWatermarkBeforeIt() throws {
        let (writer, inbox) = makeWriter()
        try writer.push.call(0, 0)
        try writer.processWatermark(10, input: 0)
        try writer.emitBarrier(1)
        XCTAssertEqual(received(inbox), [["[0]", "W10", "B1"], ["W10", "B1"]])
        try writer.push.call(1, 1)
        try writer.processWatermark(20, input: 0)
        try writer.flushAll()  // the task is about to go idle
        XCTAssertEqual(received(inbox), [["W20"], ["[1]", "W20"]])
    }
}
