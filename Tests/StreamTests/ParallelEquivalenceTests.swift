import VigilTestSupport
import XCTest
@testable import Stream

/// Property: for random inputs whose out-of-orderness stays within the watermark bound, the
/// job's window results at parallelism 1, 2 and 4 equal a plain sequential computation.
final class ParallelEquivalenceTests: XCTestCase {
    static let bound: Timestamp = 400

    func randomEvents(seed: UInt64, count: Int, keys: Int) -> [Event] {
        var rng = SeededRandom(seed: seed)
        return (0..<count).map { i in
            let jitter = Timestamp(rng.next() % UInt64(Self.bound + 1))  // within the bound
            return Event("k\(rng.next() % UInt64(keys))", Int(rng.next() % 100), at: Timestamp(i) * 5 + jitter)
        }
    }

    /// The sequential reference: windows computed directly from the whole input.
    func reference(_ events: [Event], _ spec: WindowSpec) -> [Row] {
        var rows: [Row] = []
        switch spec.kind {
        case .tumbling(let size, _), .sliding(let size, _, _):
            let slide: Int64
            if case .sliding(_, let s, _) = spec.kind { slide = s } else { slide = size }
            var acc: [String: [Timestamp: (Int, Int)]] = [:]
            for e in events {
                var start = e.ts - ((e.ts % slide) + slide) % slide
                while start > e.ts - size {
                    acc[e.key, default: [:]][start, default: (0, 0)].0 += e.value
                    acc[e.key, default: [:]][start, default: (0, 0)].1 += 1
                    start -= slide
                }
            }
            for (k, windows) in acc { for (s, v) in windows { rows.append(Row(key: k, start: s, end: s + size, sum: v.0, count: v.1)) } }
        case .session(let gap):
            for (k, group) in Dictionary(grouping: events, by: \.key) {
                let sorted = group.sorted { $0.ts < $1.ts }
                var cur = Row(key: k, start: sorted[0].ts, end: sorted[0].ts + gap, sum: 0, count: 0)
                for e in sorted {
                    if e.ts > cur.end {
                        rows.append(cur)
                        cur = Row(key: k, start: e.ts, end: e.ts + gap, sum: 0, count: 0)
                    }
                    cur.end = max(cur.end, e.ts + gap)
                    cur.sum += e.value
                    cur.count += 1
                }
                rows.append(cur)
            }
        }
        return rows.sorted()
    }

    /// How the job runs: its threads, and whether its source splits are kept aligned.
    struct Setup: CustomStringConvertible {
        var threading = ThreadingModel.threadPerTask
        var alignmentDrift: TimeSpan?
        var description: String { "\(threading)\(alignmentDrift.map { ", aligned within \($0.milliseconds) ms" } ?? "")" }
    }

    func run(_ events: [Event], _ spec: WindowSpec, parallelism: Int, setup: Setup = Setup()) throws -> [Row] {
        let env = StreamEnvironment(name: "equivalence", parallelism: parallelism)
        env.exchange.batchSize = 64  // many batches and watermarks interleaving across channels
        env.threading = setup.threading
        let late = OutputTag<Event>("late")
        var watermarks = WatermarkStrategy<Event>.boundedOutOfOrderness(.milliseconds(Self.bound)) { $0.ts }
        if let drift = setup.alignmentDrift { watermarks = watermarks.withWatermarkAlignment(maxDrift: drift) }
        let windows = env.fromCollection(events, watermarks: watermarks)
            .keyBy(\.key).window(spec).sideOutputLateData(late).aggregate(SumCount())
        let out = windows.map(row).collect()
        let lateOut = windows.sideOutput(late).collect()
        try env.execute()
        XCTAssertEqual(lateOut.count, 0, "no record may be late when disorder stays within the bound")
        return out.values.sorted()
    }

    func check(_ spec: WindowSpec, seeds: [UInt64], setup: Setup = Setup()) throws {
        for seed in seeds {
            let events = randomEvents(seed: seed, count: 20_000, keys: 50)
            let expected = reference(events, spec)
            for p in [1, 2, 4] {
                let actual = try run(events, spec, parallelism: p, setup: setup)
                XCTAssertEqual(actual.count, expected.count, "seed \(seed), parallelism \(p), \(setup): \(spec.kind)")
                XCTAssertTrue(actual == expected, "seed \(seed), parallelism \(p), \(setup): first difference "
                              + "\(zip(actual, expected).first { $0 != $1 }.map { "\($0) vs \($1)" } ?? "in length")")
            }
        }
    }

    func testTumblingWindows() throws { try check(.tumbling(.seconds(1)), seeds: [1, 2, 3]) }
    func testSlidingWindows() throws { try check(.sliding(.seconds(2), every: .milliseconds(500)), seeds: [4, 5]) }
    func testSessionWindows() throws {
        // Sparse keys so sessions both merge and close.
        try check(.session(gap: .milliseconds(2_000)), seeds: [6, 7])
    }

    /// Tasks sharing worker threads: two workers (subtasks of a chain spread over them), and
    /// one worker running every task (a send must never wait for a task on its own thread).
    func testTasksOnSharedWorkerThreads() throws {
        for threads in [2, 1] {
            let setup = Setup(threading: .threadPerCore(threads: threads))
            try check(.tumbling(.seconds(1)), seeds: [8], setup: setup)
            try check(.session(gap: .milliseconds(2_000)), seeds: [9], setup: setup)
        }
    }

    /// Watermark alignment pauses splits that run ahead; what they emit must not change. A
    /// drift below one batch's span of event time holds a split back after every batch.
    func testAlignedSplitsGiveTheSameResults() throws {
        for threading in [ThreadingModel.threadPerTask, .threadPerCore(threads: 2), .threadPerCore(threads: 1)] {
            try check(.tumbling(.seconds(1)), seeds: [10], setup: Setup(threading: threading, alignmentDrift: .milliseconds(100)))
        }
    }
}
