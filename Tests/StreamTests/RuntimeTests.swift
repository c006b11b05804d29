import Foundation
import Synchronization
import XCTest
@testable import Stream

/// The threaded runtime end to end: real tasks on real threads.
final class RuntimeTests: XCTestCase {
    func testMapFilterFlatMapAcrossParallelismChanges() throws {
        let env = StreamEnvironment(name: "basic", parallelism: 3)
        let out = env.fromCollection(Array(0..<10_000))
            .map { $0 * 2 }
            .filter { $0 % 3 == 0 }
            .flatMap(parallelism: 2) { [$0, -$0] }.startNewChain()
            .collect(parallelism: 1)
        try env.execute()
        let expected = (0..<10_000).map { $0 * 2 }.filter { $0 % 3 == 0 }.flatMap { [$0, -$0] }
        XCTAssertEqual(out.values.sorted(), expected.sorted())
    }

    func testPlannerChainsOneToOneOperatorsAndSplitsAtShuffles() throws {
        let env = StreamEnvironment(name: "plan", parallelism: 2)
        env.fromCollection([1, 2, 3]).map { $0 }.name("double").filter { _ in true }
            .keyBy { $0 }.reduce(+).name("sum").discard()
        XCTAssertEqual(try env.describePlan(), ["collection -> double -> filter x2", "sum -> discard x2"])

        // At parallelism 1 hashing is the identity: the keyed edge chains too.
        let single = StreamEnvironment(name: "plan1", parallelism: 1)
        single.fromCollection([1, 2, 3]).keyBy { $0 }.reduce(+).discard()
        XCTAssertEqual(try single.describePlan(), ["collection -> reduce -> discard x1"])
    }

    func testKeyedReduceAtParallelismFourSeesEachKeyInOneSubtask() throws {
        let env = StreamEnvironment(name: "keyed", parallelism: 4)
        let events = (0..<20_000).map { Event("k\($0 % 97)", 1, at: Timestamp($0)) }
        let out = env.fromCollection(events).keyBy(\.key)
            .reduce { a, b in Event(a.key, a.value + b.value, at: b.ts) }
            .collect()
        try env.execute()
        // The last update of each key is its full count: each key lived in exactly one subtask.
        var finalCounts: [String: Int] = [:]
        for e in out.values { finalCounts[e.key] = max(finalCounts[e.key] ?? 0, e.value) }
        XCTAssertEqual(finalCounts.count, 97)
        for (k, n) in finalCounts {
            let i = Int(k.dropFirst())!
            XCTAssertEqual(n, (20_000 - i + 96) / 97, k)
        }
    }

    func testUnionAndConnect() throws {
        let env = StreamEnvironment(name: "union", parallelism: 2)
        let a = env.fromCollection(Array(0..<100))
        let b = env.fromCollection(Array(100..<200))
        let words = env.fromCollection(["x", "y"], parallelism: 1)
        let union = a.union(b).map { $0 + 1 }.collect()
        let connected = a.connect(words).map(first: { "n\($0)" }, second: { "w\($0)" }).collect()
        try env.execute()
        XCTAssertEqual(union.values.sorted(), Array(1...200))
        XCTAssertEqual(Set(connected.values), Set((0..<100).map { "n\($0)" } + ["wx", "wy"]))
    }

    /// A join on shared keyed state across two inputs.
    struct Enrich: KeyedCoProcessFunction, Sendable {
        var names: ValueState<Int, String>!
        var pending: ListState<Int, Int>!
        mutating func open(_ ctx: KeyedContext<Int, String>) throws {
            names = try ctx.valueState("name")
            pending = try ctx.listState("pending")
        }
        func processElement1(_ v: (id: Int, amount: Int), _ ctx: KeyedContext<Int, String>) throws {
            if let n = names.value { try ctx.emit("\(n):\(v.amount)") } else { pending.add(v.amount) }
        }
        func processElement2(_ v: (id: Int, name: String), _ ctx: KeyedContext<Int, String>) throws {
            names.update(v.name)
            for amount in pending.values { try ctx.emit("\(v.name):\(amount)") }
            pending.clear()
        }
    }

    func testKeyedConnectSharesStateBetweenInputs() throws {
        let env = StreamEnvironment(name: "join", parallelism: 2)
        let orders = env.fromCollection((0..<1_000).map { (id: $0 % 10, amount: $0) })
        let names = env.fromCollection((0..<10).map { (id: $0, name: "c\($0)") })
        let out = orders.connect(names).keyBy({ $0.id }, { $0.id }).process(Enrich()).collect()
        try env.execute()
        XCTAssertEqual(Set(out.values), Set((0..<1_000).map { "c\($0 % 10):\($0)" }))
        XCTAssertEqual(out.count, 1_000)
    }

    func testSideOutputsFromProcess() throws {
        let env = StreamEnvironment(name: "side", parallelism: 2)
        let odd = OutputTag<String>("odd")
        let evens = env.fromCollection(Array(0..<1_000)).process { (n: Int, ctx: ProcessContext<Int>) in
            if n % 2 == 0 { try ctx.emit(n) } else { try ctx.output(odd, "odd \(n)") }
        }
        let evenOut = evens.collect()
        let oddOut = evens.sideOutput(odd).collect()
        try env.execute()
        XCTAssertEqual(evenOut.values.sorted(), stride(from: 0, to: 1_000, by: 2).map { $0 })
        XCTAssertEqual(oddOut.count, 500)
        XCTAssertTrue(oddOut.values.contains("odd 999"))
    }

    func testLinesFileSourceSplitsReadEveryLineOnceAndFileSinkWritesThem() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-lines-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Lines of varied length, the last one without a newline.
        let lines = (0..<5_000).map { "line \($0) " + String(repeating: "x", count: $0 % 37) }
        try (lines.joined(separator: "\n")).write(toFile: "\(dir)/in.txt", atomically: true, encoding: .utf8)
        for p in [1, 2, 3, 7] {
            let env = StreamEnvironment(name: "lines", parallelism: p)
            env.readLines("\(dir)/in.txt").map { $0.uppercased() }.writeLines(to: "\(dir)/out-\(p)")
            try env.execute()
            var written: [String] = []
            for s in 0..<p {
                let text = try String(contentsOfFile: "\(dir)/out-\(p)/part-\(s)", encoding: .utf8)
                written += text.split(separator: "\n").map(String.init)
            }
            XCTAssertEqual(written.sorted(), lines.map { $0.uppercased() }.sorted(), "parallelism \(p)")
        }
    }

    func testMissingInputFileIsAClearJobError() throws {
        let env = StreamEnvironment(name: "missing")
        env.readLines("/nonexistent/input.log").discard()
        XCTAssertThrowsError(try env.execute()) { error in
            XCTAssertTrue("\(error)".contains("cannot read '/nonexistent/input.log'"), "\(error)")
        }
    }

    struct Boom: Error, CustomStringConvertible { var description: String { "boom" } }

    func testUserErrorFailsTheJobNamingOperatorAndKeyWithoutHanging() throws {
        try checkUserErrorFailsTheJob(threading: .threadPerTask)
    }

    func testUserErrorOnSharedWorkerThreadsFailsTheJobWithoutHanging() throws {
        try checkUserErrorFailsTheJob(threading: .threadPerCore(threads: 2))
    }

    func checkUserErrorFailsTheJob(threading: ThreadingModel) throws {
        let env = StreamEnvironment(name: "failing", parallelism: 2)
        env.threading = threading
        // Enough records that upstream tasks are mid-stream (and may be blocked) when it fails.
        env.generate(count: 2_000_000) { $0 }
            .keyBy { "tenant-\($0 % 1000)" }
            .process(name: "budget-check") { (n: Int, ctx: KeyedContext<String, Int>) in
                if n == 123_456 { throw Boom() }
                try ctx.emit(n)
            }
            .discard()
        XCTAssertThrowsError(try env.execute()) { error in
            let text = "\(error)"
            XCTAssertTrue(error is JobFailedError, text)
            XCTAssertTrue(text.contains("operator 'budget-check'"), text)
            XCTAssertTrue(text.contains("key tenant-456"), text)
            XCTAssertTrue(text.contains("boom"), text)
        }
    }

    func testErrorInMapNamesTheRecord() throws {
        let env = StreamEnvironment(name: "failing-map")
        env.fromCollection(["1", "2", "x", "4"]).map(name: "parse") { s -> Int in
            guard let n = Int(s) else { throw Boom() }
            return n
        }.discard()
        XCTAssertThrowsError(try env.execute()) { error in
            XCTAssertTrue("\(error)".contains("operator 'parse' (subtask 1/1) failed on record x: boom"), "\(error)")
        }
    }

    func testInvalidTopologiesAreRejectedBeforeRunning() {
        let env = StreamEnvironment(name: "bad", parallelism: 2)
        env.fromCollection([1]).keyBy { $0 }.reduce(+).parallelism(500).discard()
        XCTAssertThrowsError(try env.execute()) { XCTAssertTrue("\($0)".contains("above its max parallelism 128"), "\($0)") }

        let env2 = StreamEnvironment(name: "bad-window")
        env2.fromCollection([Event("a", 1, at: 0)], watermarks: .ascending { $0.ts })
            .keyBy(\.key).window(.tumbling(.milliseconds(0))).aggregate(SumCount()).discard()
        XCTAssertThrowsError(try env2.execute()) { XCTAssertTrue("\($0)".contains("window size must be positive"), "\($0)") }
    }

    /// A worker whose tasks have nothing queued sleeps until the earliest processing-time
    /// timer among them: a processing-time window fires with no further input.
    func testProcessingTimeWindowsFireOnAnIdleSharedWorker() throws {
        let env = StreamEnvironment(name: "processing-time", parallelism: 2)  // the windows on workers, not chained to the source
        env.threading = .threadPerCore(threads: 1)
        let (stream, input) = env.manualSource(Int.self)
        let out = stream.keyBy { $0 % 2 }.window(.tumbling(.milliseconds(300), time: .processingTime)).reduce(+).collect()
        let job = try env.start()
        for n in 1...4 { input.send(n) }
        // Observed, not timed: at most 10 s for a 300 ms window to fire. Nothing arrives after
        // the four records, so only the worker's timer deadline can wake it to fire them.
        let deadline = Date().addingTimeInterval(10)
        while out.values.map(\.value).reduce(0, +) < 10 && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        job.cancel()
        _ = try job.wait()
        XCTAssertEqual(out.values.map(\.value).reduce(0, +), 1 + 2 + 3 + 4, "every record's window fired: \(out.values)")
    }

    /// On shared workers, a worker with nothing to do steps another worker's source. Here the
    /// keyed subtask on worker 1 stalls on its first record: worker 0 soon runs out of work (its
    /// source's channel to that subtask is full) and reads worker 1's source meanwhile. The
    /// result is the same as without help.
    func testAnIdleWorkerStepsTheSourceOfABusyOne() throws {
        let env = StreamEnvironment(name: "help", parallelism: 2)
        env.threading = .threadPerCore(threads: 2)
        env.exchange = ExchangeConfig(batchSize: 64, channelCapacity: 4)
        let maxParallelism = env.maxParallelism
        func subtask(_ key: Int) -> Int {
            KeyGroups.subtask(forKeyGroup: KeyGroups.keyGroup(of: key, maxParallelism: maxParallelism), maxParallelism: maxParallelism, parallelism: 2)
        }
        let stalling = try XCTUnwrap((0..<10).first { subtask($0) == 1 })
        let stalled = Mutex(false)
        let count = 50_000
        let sums = env.generate(count: count) { $0 }
            .keyBy { $0 % 10 }
            .process { (v: Int, ctx: KeyedContext<Int, Int>) in
                if ctx.key == stalling, stalled.withLock({ done in defer { done = true }; return !done }) { usleep(300_000) }
                let sum = try ctx.valueState("sum", Int.self)
                sum.update((sum.value ?? 0) + v)
                try ctx.emit(sum.value!)
            }
            .collect()
        let job = try env.start()
        _ = try job.wait()
        let helped = job.tasks.filter { $0.source != nil }.map(\.metrics.stepsByOtherWorkers)
        XCTAssertGreaterThan(helped.reduce(0, +), 0, "no source was stepped by the other worker: \(helped)")
        // Every key's running sums, each once.
        let expected = (0..<10).flatMap { k in
            stride(from: k, to: count, by: 10).reduce(into: [Int]()) { $0.append(($0.last ?? 0) + $1) }
        }
        XCTAssertEqual(sums.values.sorted(), expected.sorted())
    }

    func testAsyncRunAndCancel() async throws {
        let env = StreamEnvironment(name: "async")
        let out = env.fromCollection(Array(0..<1_000)).collect()
        try await env.run()
        XCTAssertEqual(out.count, 1_000)

        // An unbounded job runs until cancelled.
        let live = StreamEnvironment(name: "live")
        let (stream, input) = live.manualSource(Int.self)
        let seen = stream.collect()
        let handle = try live.start()
        input.send(1)
        handle.cancel()
        _ = try handle.wait()
        XCTAssertLessThanOrEqual(seen.count, 1)

        // On shared worker threads: the manual source (it waits for input) keeps a thread of
        // its own, the rest share workers; cancelling wakes them all.
        let shared = StreamEnvironment(name: "live-shared", parallelism: 2)
        shared.threading = .threadPerCore(threads: 1)
        let (sharedStream, sharedInput) = shared.manualSource(Int.self)
        let sharedSeen = sharedStream.keyBy { $0 }.reduce(+).collect()
        let sharedHandle = try shared.start()
        sharedInput.send(1)
        sharedHandle.cancel()
        _ = try sharedHandle.wait()
        XCTAssertLessThanOrEqual(sharedSeen.count, 1)
    }
}
