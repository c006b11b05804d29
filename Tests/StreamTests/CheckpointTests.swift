import Foundation
import XCTest
@testable import Stream



/// Checkpoints on the deterministic driver: snapshot and restore of keyed state, timers and
/// windows (also at another parallelism), corrupt checkpoints skipped, the two-phase-commit
/// file sink, and the on-disk format's checks.
final class CheckpointTests: XCTestCase {
    var directory: String!

    override func setUp() {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-ckpt-\(UUID())").path
    }
    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    // MARK: a job with every kind of state

    /// Per key: a running sum in value state and a count emitted by an event-time timer
    /// 500 ms after each record; plus 1 s tumbling window sums; plus session sums.
    struct Job {
        let env: StreamEnvironment
        let input: ManualInput<Event>
        let out: CollectedRecords<String>
    }

    func makeJob(parallelism: Int, restore: CheckpointConfig.RestorePolicy = .latest) -> Job {
        let env = StreamEnvironment(name: "checkpoint-test", parallelism: parallelism)
        var config = CheckpointConfig(directory: directory, interval: nil)
        config.restore = restore
        env.checkpointing = config
        let (events, input) = env.manualSource(Event.self)
        let running = events.keyBy(\.key).process(onTimer: { t, _, ctx in
            let seen = try ctx.valueState("seen", Int.self)
            try ctx.emit("timer \(ctx.key) \(t) seen=\(seen.value ?? 0)")
        }) { (e: Event, ctx: KeyedContext<String, String>) in
            let sum = try ctx.valueState("sum", Int.self)
            let total = (sum.value ?? 0) + e.value
            sum.update(total)
            let seen = try ctx.valueState("seen", Int.self)
            seen.update((seen.value ?? 0) + 1)
            ctx.registerEventTimeTimer(at: e.ts + 500)
            try ctx.emit("sum \(e.key) \(total)")
        }
        // Allowed lateness keeps fired windows in state: a restore must not fire them again.
        let windows = events.keyBy(\.key).window(.tumbling(.seconds(1))).allowedLateness(.milliseconds(700)).aggregate(SumCount())
            .map { "window \(row($0))" }
        let sessions = events.keyBy(\.key).window(.session(gap: .milliseconds(300))).aggregate(SumCount())
            .map { "session \(row($0))" }
        let out = running.union(windows, sessions).collect()
        return Job(env: env, input: input, out: out)
    }

    func events(_ range: Range<Int>) -> [Event] {
        range.map { i in Event("k\(i % 7)", i, at: Timestamp(i * 37)) }
    }

    func feed(_ input: ManualInput<Event>, _ events: [Event]) {
        for e in events {
            input.send(e, at: e.ts)
            input.watermark(e.ts - 100)
        }
    }

    /// The output of one uninterrupted run over all the input.
    func referenceOutput(_ all: [Event]) throws -> [String] {
        let dir = directory!
        directory = dir + "-reference"
        defer { try? FileManager.default.removeItem(atPath: directory); directory = dir }
        let job = makeJob(parallelism: 1)
        let run = try job.env.embedded()
        feed(job.input, all)
        job.input.end()
        try run.runUntilIdle()
        return job.out.values.sorted()
    }

    /// First half, checkpoint, a stretch that is lost (not checkpointed), then a new job
    /// restored from the checkpoint gets the second half: the union of what the first job
    /// emitted up to the checkpoint and what the second emits equals the reference.
    func checkRestore(from p1: Int, to p2: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let all = events(0..<400)
        let expected = try referenceOutput(all)

        let first = makeJob(parallelism: p1)
        let run1 = try first.env.embedded()
        feed(first.input, Array(all[0..<200]))
        try run1.runUntilIdle()
        let checkpoint = try run1.triggerCheckpoint()
        let beforeCheckpoint = first.out.values
        feed(first.input, Array(all[200..<260]))  // processed, then "crash": never checkpointed
        try run1.runUntilIdle()

        let second = makeJob(parallelism: p2)
        let run2 = try second.env.embedded()
        feed(second.input, Array(all[200...]))
        second.input.end()
        try run2.runUntilIdle()
        XCTAssertTrue(run2.isFinished, file: file, line: line)
        XCTAssertGreaterThan(checkpoint.bytes, 0, file: file, line: line)
        XCTAssertEqual((beforeCheckpoint + second.out.values).sorted(), expected,
                       "restored at parallelism \(p2) from a checkpoint at \(p1)", file: file, line: line)
    }

    func testRestoreAtTheSameParallelismContinuesExactly() throws { try checkRestore(from: 2, to: 2) }
    func testRescaleFromTwoToOne() throws { try checkRestore(from: 2, to: 1) }
    func testRescaleFromTwoToFour() throws { try checkRestore(from: 2, to: 4) }

    /// State is registered lazily (on first use); a checkpoint taken after a restore but
    /// before any record reached the operator must still carry the restored state.
    func testACheckpointBeforeTheFirstRecordAfterARestoreKeepsTheRestoredState() throws {
        let all = events(0..<300)
        let expected = try referenceOutput(all)
        let first = makeJob(parallelism: 2)
        let run1 = try first.env.embedded()
        feed(first.input, Array(all[0..<150]))
        try run1.runUntilIdle()
        try run1.triggerCheckpoint()
        let atCheckpoint = first.out.values

        let idle = makeJob(parallelism: 2)
        let idleRun = try idle.env.embedded()
        try idleRun.triggerCheckpoint()  // restored, nothing processed, checkpointed again
        XCTAssertEqual(idle.out.values, [])

        let last = makeJob(parallelism: 2)
        let run3 = try last.env.embedded()
        feed(last.input, Array(all[150...]))
        last.input.end()
        try run3.runUntilIdle()
        XCTAssertEqual((atCheckpoint + last.out.values).sorted(), expected)
    }

    /// A TTL keeps running across a restore: the entry's clock is part of the checkpoint.
    func testStateTTLSurvivesARestore() throws {
        func job(at now: Timestamp) throws -> (ManualInput<Int>, CollectedRecords<String>, EmbeddedExecution) {
            let env = StreamEnvironment(name: "ttl", parallelism: 1)
            env.checkpointing = CheckpointConfig(directory: directory, interval: nil)
            let (numbers, input) = env.manualSource(Int.self)
            let out = numbers.keyBy { $0 % 2 }.process { (n: Int, ctx: KeyedContext<Int, String>) in
                let last = try ctx.valueState("last", Int.self, ttl: StateTTL(.seconds(10)))
                try ctx.emit("\(n) after \(last.value.map(String.init) ?? "nothing")")
                last.update(n)
            }.collect()
            return (input, out, try env.embedded(startingAt: now))
        }
        let (in1, _, run1) = try job(at: 1_000)
        in1.send(2)
        try run1.runUntilIdle()
        try run1.triggerCheckpoint()

        let (in2, out2, run2) = try job(at: 6_000)  // 5 s later: still alive
        in2.send(4)
        try run2.runUntilIdle()
        XCTAssertEqual(out2.values, ["4 after 2"])

        let (in3, out3, run3) = try job(at: 11_500)  // restored from the first checkpoint: 10.5 s old
        in3.send(6)
        try run3.runUntilIdle()
        XCTAssertEqual(out3.values, ["6 after nothing"], "the TTL counted from before the restore")
    }

    // MARK: corrupt checkpoints

    /// Two checkpoints; the newest is damaged in `damage`; a restore must use the older one.
    func checkFallback(_ what: String, damage: (String) throws -> Void) throws {
        let all = events(0..<300)
        let expected = try referenceOutput(all)
        let first = makeJob(parallelism: 2)
        let run1 = try first.env.embedded()
        feed(first.input, Array(all[0..<100]))
        try run1.runUntilIdle()
        try run1.triggerCheckpoint()
        let atFirst = first.out.values
        feed(first.input, Array(all[100..<200]))
        try run1.runUntilIdle()
        let newest = try run1.triggerCheckpoint()
        try damage(newest.directory)

        let second = makeJob(parallelism: 2)
        let run2 = try second.env.embedded()
        feed(second.input, Array(all[100...]))
        second.input.end()
        try run2.runUntilIdle()
        XCTAssertEqual((atFirst + second.out.values).sorted(), expected, "after \(what), the previous checkpoint is restored")
    }

    func taskFile(in dir: String) throws -> String {
        // The largest: the one holding keyed state.
        let paths = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".state") }.map { dir + "/" + $0 }
        func size(_ p: String) -> Int { (try? FileManager.default.attributesOfItem(atPath: p)[.size] as? Int) ?? 0 }
        return paths.max { size($0) < size($1) }!
    }

    func testTruncatedStateFileFallsBackToThePreviousCheckpoint() throws {
        try checkFallback("truncating a state file") { dir in
            let path = try taskFile(in: dir)
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: path))
            XCTAssertThrowsError(try CheckpointStorage.validate(dir)) { XCTAssertTrue("\($0)".contains("truncated"), "\($0)") }
        }
    }

    func testDeletedStateFileFallsBackToThePreviousCheckpoint() throws {
        try checkFallback("deleting a state file") { dir in
            try FileManager.default.removeItem(atPath: try taskFile(in: dir))
            XCTAssertThrowsError(try CheckpointStorage.validate(dir)) { XCTAssertTrue("\($0)".contains("missing"), "\($0)") }
        }
    }

    func testBitFlipFallsBackToThePreviousCheckpoint() throws {
        try checkFallback("flipping a bit") { dir in
            let path = try taskFile(in: dir)
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            bytes[bytes.count / 3] ^= 0x10
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            XCTAssertThrowsError(try CheckpointStorage.validate(dir)) { XCTAssertTrue("\($0)".contains("checksum"), "\($0)") }
        }
    }

    func testDamagedMetadataFallsBackToThePreviousCheckpoint() throws {
        try checkFallback("damaging the metadata") { dir in
            let path = dir + "/_metadata"
            var text = try String(contentsOfFile: path, encoding: .utf8)
            text = text.replacingOccurrences(of: "\"checkpoint\"", with: "\"checkpoinT\"")
            try text.write(toFile: path, atomically: false, encoding: .utf8)
        }
    }

    /// A crash during the very first checkpoint leaves a directory without `_metadata`: no
    /// checkpoint ever completed, nothing was committed, so a restart starts with empty state
    /// instead of refusing (the crash test hit this when its first kill came early).
    func testACrashDuringTheFirstCheckpointStartsFresh() throws {
        let first = makeJob(parallelism: 1)
        let run1 = try first.env.embedded()
        feed(first.input, events(0..<50))
        try run1.runUntilIdle()
        let never = try run1.triggerCheckpoint()
        try FileManager.default.removeItem(atPath: never.directory + "/_metadata")

        let restarted = makeJob(parallelism: 1)
        let run = try restarted.env.embedded()
        feed(restarted.input, events(0..<3))
        try run.runUntilIdle()
        XCTAssertTrue(restarted.out.values.contains("sum k0 0"), "started with empty state")
        XCTAssertGreaterThan(try run.triggerCheckpoint().id, never.id, "new checkpoints do not reuse its directory")
    }

    func testNoValidCheckpointRefusesToStartUnlessAllowed() throws {
        let first = makeJob(parallelism: 1)
        let run1 = try first.env.embedded()
        feed(first.input, events(0..<50))
        try run1.runUntilIdle()
        let only = try run1.triggerCheckpoint()
        try FileManager.default.removeItem(atPath: try taskFile(in: only.directory))

        let refused = makeJob(parallelism: 1)
        XCTAssertThrowsError(try refused.env.embedded()) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("refusing to start"), text)
            XCTAssertTrue(text.contains("missing"), "the reason is given: \(text)")
        }

        let allowed = makeJob(parallelism: 1)
        allowed.env.checkpointing!.allowFreshStartWithoutValidCheckpoint = true
        let run = try allowed.env.embedded()
        feed(allowed.input, events(0..<3))
        try run.runUntilIdle()
        XCTAssertTrue(allowed.out.values.contains("sum k0 0"), "started with empty state")
        // New checkpoints get ids above the broken one, never reusing its directory.
        XCTAssertGreaterThan(try run.triggerCheckpoint().id, only.id)
    }

    func testSavepointRestoresByPathAndSurvivesRetention() throws {
        let all = events(0..<300)
        let expected = try referenceOutput(all)
        let first = makeJob(parallelism: 2)
        first.env.checkpointing!.retained = 1
        let run1 = try first.env.embedded()
        feed(first.input, Array(all[0..<150]))
        try run1.runUntilIdle()
        let savepoint = try run1.triggerCheckpoint(savepoint: "before-upgrade")
        let atSavepoint = first.out.values
        for _ in 0..<3 { try run1.triggerCheckpoint() }
        XCTAssertEqual(CheckpointStorage(root: directory).checkpointDirectories().count, 1, "retention keeps 1")
        XCTAssertTrue(FileManager.default.fileExists(atPath: savepoint.directory + "/_metadata"))

        XCTAssertThrowsError(try run1.triggerCheckpoint(savepoint: "../escape")) { XCTAssertTrue("\($0)".contains("invalid savepoint name"), "\($0)") }
        XCTAssertThrowsError(try run1.triggerCheckpoint(savepoint: "before-upgrade")) { XCTAssertTrue("\($0)".contains("already exists"), "\($0)") }

        let second = makeJob(parallelism: 3, restore: .from(savepoint.directory))
        let run2 = try second.env.embedded()
        feed(second.input, Array(all[150...]))
        second.input.end()
        try run2.runUntilIdle()
        XCTAssertEqual((atSavepoint + second.out.values).sorted(), expected)
    }

    // MARK: two-phase commit

    /// The lines of the published (committed) part files in `directory`, in file order.
    func publishedLines(in directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix("part-") }.sorted()
            .flatMap { try String(contentsOfFile: directory + "/" + $0, encoding: .utf8).split(separator: "\n").map(String.init) }
    }

    func testFileSinkPublishesOnlyCompletedCheckpoints() throws {
        let out = directory + "/out"
        let env = StreamEnvironment(name: "2pc", parallelism: 1)
        env.checkpointing = CheckpointConfig(directory: directory + "/state", interval: nil)
        let (events, input) = env.manualSource(Int.self)
        events.writeLinesExactlyOnce(to: out)
        let run = try env.embedded()
        func visible() throws -> [String] { try publishedLines(in: out) }
        for i in 0..<5 { input.send(i) }
        try run.runUntilIdle()
        XCTAssertEqual(try visible(), [], "nothing is visible before a checkpoint completes")
        try run.triggerCheckpoint()
        XCTAssertEqual(try visible(), ["0", "1", "2", "3", "4"])
        for i in 5..<8 { input.send(i) }
        try run.runUntilIdle()
        XCTAssertEqual(try visible().count, 5, "records after the checkpoint wait for the next one")
        input.end()
        try run.runUntilIdle()
        XCTAssertTrue(run.isFinished)
        XCTAssertEqual(try visible(), (0..<8).map(String.init), "the final checkpoint publishes the rest")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasPrefix(".") }, [],
                       "no pending or in-progress files are left")
    }

    /// A checkpoint that times out is aborted: its files go, the job goes on, and the sink's
    /// transaction pre-committed for it is published with the next completed checkpoint.
    func testATimedOutCheckpointIsAbortedAndTheJobGoesOn() throws {
        let out = directory + "/out"
        let env = StreamEnvironment(name: "abort", parallelism: 1)
        var config = CheckpointConfig(directory: directory + "/state", interval: nil)
        config.timeout = .milliseconds(1)
        env.checkpointing = config
        let (events, input) = env.manualSource(Int.self)
        events.writeLinesExactlyOnce(to: out)
        let run = try env.embedded()
        func visible() throws -> [String] { try publishedLines(in: out) }
        for i in 0..<3 { input.send(i) }
        try run.runUntilIdle()

        let coordinator = try XCTUnwrap(run.coordinator)
        let outcome = OutcomeBox()
        coordinator.trigger { outcome.result = $0 }
        coordinator.tick(now: monotonicNanos() + 1_000_000_000)  // its timeout passes before any acknowledgement
        XCTAssertThrowsError(try XCTUnwrap(outcome.result).get()) { XCTAssertTrue("\($0)".contains("aborted"), "\($0)") }
        try run.runUntilIdle()  // the barrier still travels; the sink pre-commits 0, 1, 2
        XCTAssertEqual(try visible(), [], "nothing is published for an aborted checkpoint")
        XCTAssertFalse(FileManager.default.fileExists(atPath: CheckpointStorage(root: directory + "/state").directory(forCheckpoint: 1)),
                       "the aborted checkpoint's directory is removed")

        for i in 3..<5 { input.send(i) }
        try run.runUntilIdle()
        let next = try run.triggerCheckpoint()
        XCTAssertEqual(next.id, 2)
        XCTAssertEqual(try visible(), ["0", "1", "2", "3", "4"], "published with the next completed checkpoint")
        XCTAssertEqual(coordinator.abortedCount, 1, "counted for /metrics (vigil_checkpoints_failed_total)")
    }

    func testFileSinkWithoutCheckpointsPublishesAtTheEnd() throws {
        let out = directory + "/out"
        let env = StreamEnvironment(name: "plain", parallelism: 2)
        env.fromCollection(Array(0..<100)).writeLinesExactlyOnce(to: out)
        try env.execute()
        let lines = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasPrefix("part-") }
            .flatMap { try String(contentsOfFile: out + "/" + $0, encoding: .utf8).split(separator: "\n") }
        XCTAssertEqual(lines.map { Int($0)! }.sorted(), Array(0..<100))
    }

    // MARK: threaded runs

    func testPeriodicCheckpointsOnTheThreadedRuntimeKeepTheResultAndRetainK() throws {
        try checkPeriodicCheckpoints(threading: .threadPerTask)
    }

    /// The same on shared worker threads: barriers aligned by tasks that never block their
    /// thread, sources woken by the coordinator's mail, the final checkpoint awaited.
    func testPeriodicCheckpointsOnSharedWorkerThreads() throws {
        try checkPeriodicCheckpoints(threading: .threadPerCore(threads: 2))
    }

    /// What SIGTERM does (`stopWithFinalCheckpoint`), on both threading models: the job stops
    /// in the middle of its input by itself (well within the timeout that would cancel it), and
    /// a run restored from that checkpoint finishes the input with every record counted once.
    func testStopWithAFinalCheckpointAndRestoreCountEveryRecordOnce() throws {
        for threading in [ThreadingModel.threadPerTask, .threadPerCore(threads: 2)] {
            try checkStopAndRestore(threading: threading)
            try FileManager.default.removeItem(atPath: directory)
        }
    }

    /// The same with a task in the middle that has downstream channels of its own: the last
    /// stage is slow, so when the stop comes the middle task is blocked in a send to it. The
    /// last stage stops first; before a stopped task closed its inbox, the middle task never
    /// got to read its own stop and the job waited out the 10 s timeout (measured: 10.05 s with
    /// a thread per task). On shared workers this test did not catch a channel full at the
    /// moment of the stop (it ran in 0.03 s either way), though the same wait could happen.
    func testStopWithATaskWaitingForRoomDownstream() throws {
        for threading in [ThreadingModel.threadPerTask, .threadPerCore(threads: 2)] {
            let count = 100_000
            let out = directory + "/out"
            func start(slow: Bool) throws -> JobHandle {
                let env = StreamEnvironment(name: "stop-blocked", parallelism: 2)
                env.threading = threading
                env.exchange = ExchangeConfig(batchSize: 16, channelCapacity: 2)
                env.checkpointing = CheckpointConfig(directory: directory + "/state", interval: nil)
                env.generate(count: count) { $0 }
                    .keyBy { $0 % 10 }.process { (v: Int, ctx: KeyedContext<Int, Int>) in try ctx.emit(v) }
                    .keyBy { $0 % 7 }.process { (v: Int, ctx: KeyedContext<Int, Int>) in
                        if slow { usleep(200) }
                        try ctx.emit(v)
                    }
                    .writeLinesExactlyOnce(to: out)
                return try env.start()
            }
            let first = try start(slow: true)
            _ = try first.triggerCheckpoint()
            let stopping = monotonicNanos()
            let final = try first.stopWithFinalCheckpoint(timeout: 10)
            _ = try first.wait()
            XCTAssertLessThan(Double(monotonicNanos() - stopping) / 1e9, 5, "\(threading): stopped by itself, not by the timeout")
            // The stop commits its final checkpoint: each sink subtask published that file.
            let files = try FileManager.default.contentsOfDirectory(atPath: out)
            for subtask in 0..<2 {
                let name = "part-\(subtask)-" + String(repeating: "0", count: 10 - String(final.id).count) + String(final.id)
                XCTAssertTrue(files.contains(name), "\(threading): \(name) not published at the stop: \(files.sorted())")
            }
            XCTAssertLessThan(try publishedLines(in: out).count, count, "\(threading): stopped before the end of the input")

            _ = try start(slow: false).wait()
            XCTAssertEqual(try publishedLines(in: out).map { Int($0)! }.sorted(), Array(0..<count), "\(threading): every record once")
            try FileManager.default.removeItem(atPath: directory)
        }
    }

    func checkStopAndRestore(threading: ThreadingModel) throws {
        let count = 200_000
        let out = directory + "/out"
        func start(throttled: Bool) throws -> JobHandle {
            let env = StreamEnvironment(name: "stop", parallelism: 2)
            env.threading = threading
            env.checkpointing = CheckpointConfig(directory: directory + "/state", interval: nil)
            env.generate(count: count, watermarks: .boundedOutOfOrderness(.milliseconds(10)) { Timestamp($0) }) { $0 }
                .map { v in
                    if throttled && v % 1_000 == 0 { usleep(2_000) }  // ~0.2 s in all: stopped mid-input
                    return v
                }
                .keyBy { $0 % 10 }.window(.tumbling(.seconds(10))).aggregate(ReduceAggregate<Int> { $0 + $1 })
                .writeLinesExactlyOnce(to: out) { "\($0.key) \($0.window.start) \($0.value)" }
            return try env.start()
        }

        let first = try start(throttled: true)
        _ = try first.triggerCheckpoint()  // the job is running
        let stopping = monotonicNanos()
        let final = try first.stopWithFinalCheckpoint(timeout: 10)
        _ = try first.wait()
        let stopSeconds = Double(monotonicNanos() - stopping) / 1e9
        XCTAssertLessThan(stopSeconds, 5, "\(threading): the tasks stopped by themselves, not by the timeout")
        XCTAssertEqual(first.completedCheckpoints.last?.id, final.id, "\(threading): the final checkpoint is the last")
        let published = try publishedLines(in: out).count
        XCTAssertLessThan(published, 10 * 20, "\(threading): stopped before the end of the input (else the test proves nothing)")

        let second = try start(throttled: false)
        _ = try second.wait()
        var seen: Set<String> = []
        var total = 0
        for line in try publishedLines(in: out) {
            let fields = line.split(separator: " ")
            XCTAssertTrue(seen.insert("\(fields[0]) \(fields[1])").inserted, "\(threading): window \(line) published twice")
            total += Int(fields[2])!
        }
        XCTAssertEqual(seen.count, 10 * 20, "\(threading): 10 keys x 20 windows of 10 s")
        XCTAssertEqual(total, count * (count - 1) / 2, "\(threading): every record counted once")
    }

    func checkPeriodicCheckpoints(threading: ThreadingModel) throws {
        let env = StreamEnvironment(name: "periodic", parallelism: 2)
        env.threading = threading
        var config = CheckpointConfig(directory: directory, interval: .milliseconds(5))
        config.retained = 2
        env.checkpointing = config
        let out = env.generate(count: 300_000, watermarks: .boundedOutOfOrderness(.milliseconds(10)) { Timestamp($0) }) { $0 }
            .keyBy { $0 % 100 }
            .reduce { $0 + $1 }
            .keyBy { $0 % 10 }.window(.tumbling(.seconds(100))).aggregate(ReduceAggregate<Int> { max($0, $1) })
            .collect()
        let job = try env.start()
        _ = try job.wait()
        XCTAssertGreaterThan(job.completedCheckpoints.count, 1, "periodic checkpoints were taken")
        XCTAssertTrue(job.completedCheckpoints.last!.directory.hasSuffix(String(job.completedCheckpoints.last!.id)))
        XCTAssertLessThanOrEqual(CheckpointStorage(root: directory).checkpointDirectories().count, 2)
        XCTAssertEqual(out.values.count, 10 * 3)  // 10 keys x 3 windows of 100 s (300,000 ms)
        // The same computed directly: running sums per key (v % 100), their maximum per
        // (sum % 10, 100 s window of the record's time v ms).
        var sums = [Int](repeating: 0, count: 100)
        var expected: [String: Int] = [:]
        for v in 0..<300_000 {
            sums[v % 100] += v
            let s = sums[v % 100], window = "\(s % 10) \(v / 100_000 * 100_000)"
            expected[window] = max(expected[window] ?? .min, s)
        }
        let actual = Dictionary(uniqueKeysWithValues: out.values.map { ("\($0.key) \($0.window.start)", $0.value) })
        XCTAssertEqual(actual, expected, "\(threading)")
    }

    func testStateWithoutACoderFailsTheJobAtStartNamingTheType() throws {
        struct Opaque: Sendable { var x = 0 }
        let env = StreamEnvironment(name: "opaque", parallelism: 1)
        env.checkpointing = CheckpointConfig(directory: directory, interval: nil)
        env.fromCollection([1, 2, 3]).keyBy { $0 }.process { (n: Int, ctx: KeyedContext<Int, Int>) in
            try ctx.valueState("opaque", Opaque.self).update(Opaque(x: n))
        }.discard()
        XCTAssertThrowsError(try env.execute()) { error in
            XCTAssertTrue("\(error)".contains("Opaque"), "\(error)")
            XCTAssertTrue("\(error)".contains("StateCodable"), "\(error)")
        }
    }

    /// Regression: the coordinator's tick reads the clock before taking its lock, so a
    /// checkpoint started meanwhile by another thread has a later start time; the elapsed
    /// time underflowed and trapped (seen in CI on a 2-core machine).
    func testATickWithAClockReadingOlderThanTheRunningCheckpointDoesNotTrap() throws {
        let env = StreamEnvironment(name: "tick", parallelism: 1)
        env.checkpointing = CheckpointConfig(directory: directory, interval: .milliseconds(1))
        let (numbers, _) = env.manualSource(Int.self)
        numbers.discard()
        let run = try env.embedded()
        try run.runUntilIdle()
        let coordinator = try XCTUnwrap(run.coordinator)
        let before = monotonicNanos()
        coordinator.trigger { _ in }  // starts a checkpoint now, after `before`
        coordinator.tick(now: before)  // a tick whose clock reading predates it
        coordinator.tick(now: 0)
        try run.runUntilIdle()
        XCTAssertEqual(coordinator.completed.count, 1)
    }

    // MARK: format details

    func testCRC32CMatchesTheStandardCheckValue() {
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
    }

    func testStateCodingRoundTrips() throws {
        var w = StateWriter()
        let values: [String: [Int?]] = ["a": [1, nil, -3, .max, .min, 0, -64, 64], "ü": []]
        values.encode(to: &w)
        (-1.5).encode(to: &w)
        var r = StateReader(w.bytes)
        XCTAssertEqual(try [String: [Int?]].decode(from: &r), values)
        XCTAssertEqual(try Double.decode(from: &r), -1.5)
        XCTAssertTrue(r.isAtEnd)
        var truncated = StateReader(Array(w.bytes.prefix(5)))
        XCTAssertThrowsError(try [String: [Int?]].decode(from: &truncated))
        // Codable-only types go through JSON.
        let coder = try XCTUnwrap(StateCoder<SumCount.Acc>.resolve())
        var w2 = StateWriter()
        coder.encode(SumCount.Acc(sum: 3, count: 2), &w2)
        var r2 = StateReader(w2.bytes)
        XCTAssertEqual(try coder.decode(&r2), SumCount.Acc(sum: 3, count: 2))
    }
}

/// Where a coordinator callback's result lands in a single-threaded test.
final class OutcomeBox: @unchecked Sendable {
    var result: Result<CompletedCheckpoint, any Error>?
}

final class TransactionalLinesRecoveryTests: XCTestCase {
    /// After a rescale down, subtask 0 clears what the vanished subtasks left — but not a
    /// pending file the restored checkpoint covers: another subtask got it in the restore and
    /// may be committing it at this moment.
    func testRecoveryKeepsPendingFilesTheRestoredCheckpointCovers() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-lines-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var writer = try TransactionalLinesWriter<String>(directory: dir, subtask: 0) { $0 }
        for name in [".part-0.inprogress", ".part-0-5.pending", ".part-1-5.pending", ".part-2.inprogress",
                     ".part-2-3.pending", ".part-2-7.pending", "part-0-0000000003"] {
            FileManager.default.createFile(atPath: dir + "/" + name, contents: Data("x\n".utf8))
        }
        try writer.recover(restoredCheckpoint: 4, keeping: [], subtask: 0, parallelism: 2)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(),
                       [".part-1-5.pending", ".part-2-3.pending", "part-0-0000000003"])
    }
}
