import XCTest
@testable import Stream

/// The record writer of a keyed edge routes every record to the subtask that owns its key
/// group, by the same rule as keyed state (`KeyGroups`), whether or not the maximum
/// parallelism is a power of two (the writer masks instead of dividing when it is).
final class KeyedRoutingTests: XCTestCase {
    func testEveryRecordReachesTheSubtaskOwningItsKeyGroup() throws {
        for (maxParallelism, parallelism) in [(128, 3), (100, 3), (7, 2), (1, 1), (4096, 5)] {
            let inbox = TaskInbox(channels: parallelism, capacityPerChannel: .max)
            let writer = RecordWriter<Int>(
                targets: (0..<parallelism).map { ChannelTarget(inbox: inbox, channel: $0) },
                partitioning: .keyGroups, keyHashOf: { $0.stableHash }, maxParallelism: maxParallelism,
                batchSize: 16, metrics: TaskMetrics(taskName: "routing"))
            let keys = Array(-500..<500) + [Int.min, Int.max]
            for key in keys { try writer.push.call(key, 0) }
            try writer.flushAll()

            var received = 0
            while case .element(let element, let channel) = inbox.receive(deadlineNanos: 0) {
                guard case .records(let payload, _) = element else { continue }
                for record in payload as! ContiguousArray<StreamRecord<Int>> {
                    let group = KeyGroups.keyGroup(of: record.value, maxParallelism: maxParallelism)
                    XCTAssertEqual(channel, KeyGroups.subtask(forKeyGroup: group, maxParallelism: maxParallelism, parallelism: parallelism),
                                   "key \(record.value), max parallelism \(maxParallelism), parallelism \(parallelism)")
                    received += 1
                }
            }
            XCTAssertEqual(received, keys.count, "max parallelism \(maxParallelism)")
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
