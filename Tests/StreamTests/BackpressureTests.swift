import Foundation
import XCTest
@testable import Stream

/// A slow consumer makes its producers block on full channels; queues never exceed their
/// bound, so memory stays bounded however fast the source is.
final class BackpressureTests: XCTestCase {
    /// A sink that stops at its first record until the test opens the gate.
    struct GatedWriter: SinkWriter {
        let arrived: DispatchSemaphore
        let gate: DispatchSemaphore
        var count = 0
        mutating func write(_ value: Int, timestamp: Timestamp) throws {
            if count == 0 { arrived.signal(); gate.wait() }
            count += 1
        }
    }

    func testSlowSinkBlocksUpstreamAndQueuesStayWithinTheirBound() throws {
        try checkSlowSink(threading: .threadPerTask, overflow: 0)
    }

    /// On shared worker threads a task runs only while its output channels have room, and a
    /// step may add its output to a channel beyond the capacity: here at most a full batch,
    /// the partial batch and the end of data of a source's last step.
    func testOnSharedThreadsASlowSinkHoldsUpstreamBackWithinOneStepOfTheBound() throws {
        try checkSlowSink(threading: .threadPerCore(threads: 2), overflow: 2)
    }

    /// Split 1 reads one full batch, waits for the test's signal, then reads three more full
    /// batches and one record; split 0 is empty. With two shared workers, split 1 has worker 1 to
    /// itself and the sink is on worker 0, so the sink can stall while split 1 goes on.
    struct StagedReader: SourceReader {
        static var readsWithoutWaiting: Bool { true }
        let subtask: Int
        let batch: Int
        let release: DispatchSemaphore
        var reads = 0
        mutating func read(into context: SourceContext<Int>, limit: Int) throws -> SourceReadResult {
            guard subtask == 1 else { return .finished }
            reads += 1
            if reads == 2 { release.wait() }
            let count = reads <= 4 ? min(limit, batch) : 1
            for i in 0..<count { try context.emit(i) }
            return reads < 5 ? .more : .finished
        }
    }

    /// The close of a finished task's channels (end of partition) is output like a step's: on a
    /// full channel it waits for room. Sending it at once took a stalled channel past the
    /// bound by one more element, and only when a source ended while its consumer was stalled
    /// (a CI run under load).
    func testOnSharedThreadsASourceEndingIntoAFullChannelClosesItOnlyOnceThereIsRoom() throws {
        let capacity = 4, batch = 256
        let env = StreamEnvironment(name: "backpressure-end", parallelism: 1)
        env.exchange = ExchangeConfig(batchSize: batch, channelCapacity: capacity)
        env.threading = .threadPerCore(threads: 2)
        let arrived = DispatchSemaphore(value: 0), gate = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        // The sink takes split 1's first batch and stalls; only then does split 1 read on. (It
        // used to race the sink: when it filled the channel first, it slept at 4, the one batch
        // taken did not wake it, and the channel never reached the bound below; 1 run of the
        // stream tests in 6 here.) Its last step finds three batches queued and adds the
        // partial batch, the final watermark and the end of data: capacity + 2.
        env.source(name: "staged", parallelism: 2) { s, _ in StagedReader(subtask: s, batch: batch, release: release) }
            .rebalance()
            .sink { _, _ in GatedWriter(arrived: arrived, gate: gate) }
        let job = try env.start()
        arrived.wait()
        release.signal()

        // The sink, chained to the rebalance, has the job's only inbox.
        func highest() -> Int { job.metrics.tasks.flatMap(\.channelHighWaterMarks).max() ?? 0 }
        let deadline = Date().addingTimeInterval(20)
        while highest() < capacity + 2 && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        XCTAssertEqual(highest(), capacity + 2, "a source's last step must reach its stalled channel")
        Thread.sleep(forTimeInterval: 0.2)  // observation interval: what the finished source sends next
        XCTAssertEqual(highest(), capacity + 2, "a finished source closed its full channel without room")

        gate.signal()
        let result = try job.wait()
        XCTAssertEqual(result.metrics.task(named: "staged").reduce(0) { $0 + $1.recordsOut }, 4 * batch + 1)
    }

    func checkSlowSink(threading: ThreadingModel, overflow: Int) throws {
        let total = 1_000_000
        let env = StreamEnvironment(name: "backpressure", parallelism: 2)
        env.exchange = ExchangeConfig(batchSize: 256, channelCapacity: 4)
        env.threading = threading
        let arrived = DispatchSemaphore(value: 0), gate = DispatchSemaphore(value: 0)
        env.generate(count: total) { $0 }
            .map { $0 }
            .keyBy { $0 % 10 }.process { (n: Int, ctx: KeyedContext<Int, Int>) in try ctx.emit(n) }
            .sink(parallelism: 1) { _, _ in GatedWriter(arrived: arrived, gate: gate) }
        let job = try env.start()
        arrived.wait()

        // While the sink is stalled, the pipeline fills and then stops: wait (bounded) until the
        // source tasks stop reading.
        func sourceRead() -> Int { job.metrics.task(named: "generator").reduce(0) { $0 + $1.recordsIn } }
        var last = -1
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let now = sourceRead()
            if now == last { break }
            last = now
            Thread.sleep(forTimeInterval: 0.2)  // observation interval, not a timing assumption
        }
        let stalled = job.metrics
        // What can be in flight: every channel full, plus each task's partly filled batches.
        let channels = stalled.tasks.reduce(0) { $0 + $1.channelHighWaterMarks.count }
        let bound = channels * (4 + 1 + overflow) * 256 + stalled.tasks.count * 4 * 256
        XCTAssertLessThan(last, total, "the source must be held back, not read everything")
        XCTAssertLessThanOrEqual(last, bound, "records read while the sink is stalled exceed what the queues may hold")

        gate.signal()
        let result = try job.wait()
        for t in result.metrics.tasks {
            for hw in t.channelHighWaterMarks {
                XCTAssertLessThanOrEqual(hw, t.channelCapacity + overflow, "\(t.name): a channel exceeded its bound")
            }
        }
        let blocked = result.metrics.task(named: "generator").reduce(UInt64(0)) { $0 + $1.backpressureNanos }
        XCTAssertGreaterThan(blocked, 0, "the source tasks must report time held back by backpressure")
        XCTAssertEqual(result.metrics.task(named: "process").reduce(0) { $0 + $1.recordsIn }, total)
    }
}
