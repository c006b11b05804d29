import XCTest
@testable import Stream

/// The record writer of a keyed edge routes every record to the subtask that owns its key
/// group, by the same rule as keyed state (`KeyGroups`), whether or not the maximum
/// parallelism is a power of two (the writer masks instead of dividing when it is).
final class KeyedRoutingTests: XCTestCase {
    /// Both entry points: a record at a time, and runs of records (what a collection source
    /// hands the writer, `SourceContext.emit(contentsOf:)`).
    func testEveryRecordReachesTheSubtaskOwningItsKeyGroupWithItsTimestamp() throws {
        for byRuns in [false, true] {
            for (maxParallelism, parallelism) in [(128, 3), (100, 3), (7, 2), (1, 1), (4096, 5)] {
                let inbox = TaskInbox(channels: parallelism, capacityPerChannel: .max)
                let writer = RecordWriter<Int>(
                    targets: (0..<parallelism).map { ChannelTarget(inbox: inbox, channel: $0) },
                    partitioning: .keyGroups, keyHashOf: { $0.stableHash }, maxParallelism: maxParallelism,
                    batchSize: 16, metrics: TaskMetrics(taskName: "routing"))
                let keys = Array(-500..<500) + [Int.min, Int.max]
                let stamps = keys.map { Timestamp(truncatingIfNeeded: $0 &* 3) }
                if byRuns {
                    let run = try XCTUnwrap(writer.push.callRun, "a keyed writer takes runs")
                    // Runs of uneven lengths, none a multiple of the batch size.
                    var start = 0
                    for length in [1, 37, 300, 663, 1] where start < keys.count {
                        let end = min(keys.count, start + length)
                        try keys[start..<end].withUnsafeBufferPointer { v in
                            try stamps[start..<end].withUnsafeBufferPointer { try run(v, $0.baseAddress!) }
                        }
                        start = end
                    }
                    XCTAssertEqual(start, keys.count)
                } else {
                    for (key, ts) in zip(keys, stamps) { try writer.push.call(key, ts) }
                }
                try writer.flushAll()

                var received = 0
                while case .element(let element, let channel) = inbox.receive(deadlineNanos: 0) {
                    guard case .records(let payload, _) = element else { continue }
                    for record in payload as! ContiguousArray<StreamRecord<Int>> {
                        let group = KeyGroups.keyGroup(of: record.value, maxParallelism: maxParallelism)
                        XCTAssertEqual(channel, KeyGroups.subtask(forKeyGroup: group, maxParallelism: maxParallelism, parallelism: parallelism),
                                       "key \(record.value), max parallelism \(maxParallelism), parallelism \(parallelism)")
                        XCTAssertEqual(record.timestamp, Timestamp(truncatingIfNeeded: record.value &* 3))
                        received += 1
                    }
                }
                XCTAssertEqual(received, keys.count, "max parallelism \(maxParallelism), runs: \(byRuns)")
            }
        }
    }

    /// A source hands a run of records whole to a target that takes runs (in pieces of at most
    /// `runLength`), and record by record to one that does not; either way every record
    /// arrives once, in order, with its timestamp, and the batch's count and maximum timestamp
    /// (what the source's watermark comes from) are the same.
    func testASourceEmitsARunWholeWhereTheTargetTakesRunsAndRecordByRecordOtherwise() throws {
        let values = (0..<2_500).map { ($0 &* 7919) % 2_500 }
        for takesRuns in [false, true] {
            final class Seen { var records: [StreamRecord<Int>] = []; var calls = 0 }
            let seen = Seen()
            let perRecord: (Int, Timestamp) throws -> Void = { v, ts in
                seen.records.append(StreamRecord(v, timestamp: ts))
                seen.calls += 1
            }
            let push = takesRuns
                ? Push(perRecord, runs: { run, stamps in
                    seen.calls += 1
                    for i in run.indices { seen.records.append(StreamRecord(run[i], timestamp: stamps[i])) }
                })
                : Push(perRecord)
            let output = Output<Int>()
            output.connect([push], [])
            let context = SourceContext(output: output, timestampOf: { Timestamp($0 * 10) })
            try values.withUnsafeBufferPointer { try context.emit(contentsOf: $0) }

            XCTAssertEqual(seen.records, values.map { StreamRecord($0, timestamp: Timestamp($0 * 10)) }, "runs: \(takesRuns)")
            let runLength = SourceContext<Int>.runLength
            XCTAssertEqual(seen.calls, takesRuns ? (values.count + runLength - 1) / runLength : values.count)
            XCTAssertEqual(context.emittedInBatch, values.count)
            XCTAssertEqual(context.maxTimestamp, 24_990)
        }
    }

    /// The other partitionings write through the same batches: round-robin spreads records
    /// evenly and in turn, broadcast gives every channel every record, forward keeps order.
    func testRebalanceBroadcastAndForwardDeliverEveryRecord() throws {
        func run(_ partitioning: Partitioning, channels: Int, records: Int) throws -> [[Int]] {
            let inbox = TaskInbox(channels: channels, capacityPerChannel: .max)
            let writer = RecordWriter<Int>(targets: (0..<channels).map { ChannelTarget(inbox: inbox, channel: $0) },
                                           partitioning: partitioning, keyHashOf: nil, maxParallelism: 128,
                                           batchSize: 4, metrics: TaskMetrics(taskName: "routing"))
            for v in 0..<records { try writer.push.call(v, 0) }
            try writer.flushAll()
            var byChannel = Array(repeating: [Int](), count: channels)
            while case .element(let element, let channel) = inbox.receive(deadlineNanos: 0) {
                guard case .records(let payload, _) = element else { continue }
                byChannel[channel] += (payload as! ContiguousArray<StreamRecord<Int>>).map(\.value)
            }
            return byChannel
        }
        XCTAssertEqual(try run(.rebalance, channels: 3, records: 10), [[0, 3, 6, 9], [1, 4, 7], [2, 5, 8]])
        XCTAssertEqual(try run(.broadcast, channels: 2, records: 9), [Array(0..<9), Array(0..<9)])
        XCTAssertEqual(try run(.forward, channels: 1, records: 9), [Array(0..<9)])
    }
}
