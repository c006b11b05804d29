import Detectors
import Foundation
import Stream
import XCTest

/// The log-anomaly operator on the deterministic harness: records and watermarks by hand.
final class LogAnomalyTests: XCTestCase {
    let second: Int64 = 1_000
    /// 10 s windows, two windows of warm-up.
    let config = LogAnomalyConfig(window: .seconds(10), warmupWindows: 2)

    func harness(_ config: LogAnomalyConfig? = nil) -> StreamTestHarness<LogEvent, LogAnomaly> {
        let c = config ?? self.config
        return StreamTestHarness(of: LogEvent.self) { $0.logAnomalies(c) }
    }

    /// `perWindow` messages of `make(i)` spread over window `w` of service "api".
    func sendWindow(_ h: StreamTestHarness<LogEvent, LogAnomaly>, _ w: Int64, count perWindow: Int,
                    severity: Int32 = 9, _ make: (Int) -> String) throws {
        for i in 0..<perWindow {
            try h.send(LogEvent(service: "api", severityNumber: severity, message: make(i)), at: w * 10 * second + Int64(i) * 10)
        }
    }

    func served(_ i: Int) -> String { "request \(i) served in \(i % 37) ms" }

    func testANewTemplateAfterWarmUpIsReportedAtOnceWithItsText() throws {
        let h = harness()
        for w in 0..<4 {
            try sendWindow(h, Int64(w), count: 20, served)
            if w == 0 { try h.send(LogEvent(service: "api", severityNumber: 9, message: "cache warmed in 40 ms"), at: 500) }
            try h.watermark(Int64(w + 1) * 10 * second - 1)
        }
        XCTAssertEqual(h.takeOutput(), [], "templates seen during warm-up are learned, not reported")
        try h.send(LogEvent(service: "api", severityNumber: 17, message: "disk /dev/sda1 failed: I/O error 5"), at: 40 * second + 5)
        let out = h.takeOutput()
        XCTAssertEqual(out.map(\.kind), [.newTemplate])
        XCTAssertEqual(out.first?.template, "disk <*> failed: I/O error <*>")
        XCTAssertEqual(out.first?.service, "api")
        XCTAssertEqual(out.first?.windowStart, 40 * second)
    }

    func testARateJumpAndAStopAreRateShiftsAndSteadyRatesAreNot() throws {
        let h = harness()
        for w in 0..<6 {
            try sendWindow(h, Int64(w), count: 20 + (w % 2), served)
            try h.watermark(Int64(w + 1) * 10 * second - 1)
        }
        XCTAssertEqual(h.takeOutput(), [], "a steady 20–21 per window is no anomaly")
        try sendWindow(h, 6, count: 120, served)
        try h.watermark(70 * second - 1)
        let jump = h.takeOutput()
        XCTAssertEqual(jump.map(\.kind), [.rateShift])
        XCTAssertEqual(jump.first?.observed, 120)
        XCTAssertEqual(jump.first?.template, "request <*> served in <*> ms")
        XCTAssertEqual(jump.first?.windowStart, 60 * second)
        XCTAssertGreaterThan(jump.first?.score ?? 0, 4)

        // Back to normal for a while, then silence: the window that closes empty reports the drop.
        for w in 7..<12 {
            try sendWindow(h, Int64(w), count: 20, served)
            try h.watermark(Int64(w + 1) * 10 * second - 1)
        }
        _ = h.takeOutput()
        try h.watermark(130 * second)
        let stop = h.takeOutput()
        XCTAssertEqual(stop.map(\.kind), [.rateShift])
        XCTAssertEqual(stop.first?.observed, 0)
        XCTAssertEqual(stop.first?.windowStart, 120 * second)
        try h.watermark(500 * second)
        XCTAssertEqual(h.takeOutput(), [], "after one silent window the timers stop")
    }

    /// A service's telemetry starts part-way through a window. Its first window's small count
    /// must not become the baseline: found by `vigil run`'s demo, where every service's steady
    /// rate was reported as a rate shift once warm.
    func testAFirstWindowCutShortIsNoBaselineAndSteadyRatesAfterItAreNoShift() throws {
        let h = harness()
        // Window 0: the service starts at 9 s of 10, 20 messages; then 200 per window.
        for i in 0..<20 { try h.send(LogEvent(service: "api", severityNumber: 9, message: served(i)), at: 9 * second + Int64(i) * 10) }
        try h.watermark(10 * second - 1)
        for w in 1..<10 {
            try sendWindow(h, Int64(w), count: 200 + (w % 3) * 5, served)
            try h.watermark(Int64(w + 1) * 10 * second - 1)
        }
        XCTAssertEqual(h.takeOutput(), [], "a steady 200–210 per window is no anomaly")
    }

    func testTheEndOfABoundedInputIsNotASilence() throws {
        let h = harness()
        for w in 0..<6 {
            try sendWindow(h, Int64(w), count: 20, served)
            try h.watermark(Int64(w + 1) * 10 * second - 1)
        }
        try h.end()
        XCTAssertEqual(h.output, [], "the input ended; the service did not stop")
    }

    /// A bounded input that ends in the middle of a window leaves that window short: fewer
    /// messages than usual is the input's end, not a drop (`vigil incidents --stop-at-end` once
    /// opened an incident on exactly that); a burst in it is still a burst.
    func testAWindowCutShortByTheEndOfInputIsNoDrop() throws {
        let h = harness()
        for w in 0..<6 {
            try sendWindow(h, Int64(w), count: 80, served)
            try h.watermark(Int64(w + 1) * 10 * second - 1)
        }
        try sendWindow(h, 6, count: 5, served)  // the input ends early in window 6
        try h.send(LogEvent(service: "api", severityNumber: 17, message: "payment 1 declined: card expired"), at: 61 * second)
        for i in 0..<30 { try h.send(LogEvent(service: "api", severityNumber: 17, message: "payment \(i) declined: card expired"), at: 61 * second + Int64(i)) }
        try h.end()
        let out = h.output
        XCTAssertFalse(out.contains { $0.kind == .rateShift && $0.observed < $0.expected }, "\(out)")
        XCTAssertTrue(out.contains { $0.kind == .errorBurst }, "\(out)")
    }

    func testAnErrorBurstIsReported() throws {
        let h = harness()
        for w in 0..<5 {
            try sendWindow(h, Int64(w), count: 20, served)
            try sendWindow(h, Int64(w), count: 1, severity: 17) { _ in "upstream timeout after 3000 ms" }
            try h.watermark(Int64(w + 1) * 10 * second - 1)
        }
        XCTAssertEqual(h.takeOutput(), [])
        try sendWindow(h, 5, count: 20, served)
        try sendWindow(h, 5, count: 1, severity: 17) { _ in "upstream timeout after 3000 ms" }
        try sendWindow(h, 5, count: 30, severity: 18) { i in "payment \(i) declined: card expired" }
        try h.watermark(60 * second - 1)
        let out = h.takeOutput()
        XCTAssertEqual(Set(out.map(\.kind)), [.newTemplate, .errorBurst])
        let burst = try XCTUnwrap(out.first { $0.kind == .errorBurst })
        XCTAssertEqual(burst.observed, 31)
        XCTAssertEqual(burst.expected, 1, accuracy: 0.01)
    }

    func testServicesAreJudgedApart() throws {
        let h = harness()
        for w in 0..<4 {
            try sendWindow(h, Int64(w), count: 20, served)
            try h.send(LogEvent(service: "db", severityNumber: 9, message: "checkpoint complete"), at: Int64(w) * 10 * second + 1)
            try h.watermark(Int64(w + 1) * 10 * second - 1)
        }
        _ = h.takeOutput()
        // "db" has never logged this, "api" has: only db reports a new template.
        try h.send(LogEvent(service: "db", severityNumber: 9, message: "request 1 served in 3 ms"), at: 40 * second + 1)
        XCTAssertEqual(h.takeOutput().map(\.service), ["db"])
    }

    func testRecordsWithoutTimestampsAndBadConfigsAreRejectedClearly() throws {
        let h = harness()
        XCTAssertThrowsError(try h.send(LogEvent(service: "api", severityNumber: 9, message: "x"))) {
            XCTAssertTrue("\($0)".contains("need event time"), "\($0)")
        }
        let bad = harness(LogAnomalyConfig(miner: TemplateMinerConfig(masks: ["(unclosed"])))
        XCTAssertThrowsError(try bad.send(LogEvent(service: "api", severityNumber: 9, message: "x"), at: 1)) {
            XCTAssertTrue("\($0)".contains("(unclosed"), "\($0)")
        }
    }

    // MARK: checkpoints

    struct Job {
        let env: StreamEnvironment
        let input: ManualInput<LogEvent>
        let out: CollectedRecords<String>
    }

    func makeJob(_ directory: String, parallelism: Int) -> Job {
        let env = StreamEnvironment(name: "log-anomaly-checkpoints", parallelism: parallelism)
        env.checkpointing = CheckpointConfig(directory: directory, interval: nil)
        let (events, input) = env.manualSource(LogEvent.self)
        let out = events.logAnomalies(config).map { "\($0.windowStart) \($0)" }.collect()
        return Job(env: env, input: input, out: out)
    }

    /// Three services; templates drift, a burst in window 9, a new template in window 12.
    func workload() -> [(LogEvent, Timestamp)] {
        var all: [(LogEvent, Timestamp)] = []
        for w in 0..<16 {
            for service in ["api", "db", "cart"] {
                let n = 20 + (w == 9 && service == "cart" ? 100 : 0)
                for i in 0..<n {
                    all.append((LogEvent(service: service, severityNumber: i % 10 == 0 ? 17 : 9, message: served(i + w)), Int64(w) * 10 * second + Int64(i) * 7))
                }
                if w == 12 { all.append((LogEvent(service: service, severityNumber: 9, message: "leader elected: node \(w)"), Int64(w) * 10 * second + 900)) }
            }
        }
        return all
    }

    func feed(_ input: ManualInput<LogEvent>, _ events: ArraySlice<(LogEvent, Timestamp)>) {
        for (e, t) in events {
            input.send(e, at: t)
            input.watermark(t - 2 * second)
        }
    }

    func testARestoredJobReportsExactlyWhatAnUninterruptedOneDoes() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-log-anomaly-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: base) }
        let all = workload()

        let reference = makeJob(base + "/reference", parallelism: 1)
        let run = try reference.env.embedded()
        feed(reference.input, all[...])
        reference.input.end()
        try run.runUntilIdle()
        let expected = reference.out.values.sorted()
        XCTAssertTrue(expected.contains { $0.contains("rate_shift") || $0.contains("per window") }, "\(expected)")
        XCTAssertTrue(expected.contains { $0.contains("new log template") }, "\(expected)")

        let cut = all.count / 2
        let first = makeJob(base + "/job", parallelism: 2)
        let run1 = try first.env.embedded()
        feed(first.input, all[..<cut])
        try run1.runUntilIdle()
        try run1.triggerCheckpoint()
        let beforeCheckpoint = first.out.values
        feed(first.input, all[cut..<(cut + 300)])  // processed, then lost in a "crash"
        try run1.runUntilIdle()

        let second = makeJob(base + "/job", parallelism: 2)
        let run2 = try second.env.embedded()
        feed(second.input, all[cut...])
        second.input.end()
        try run2.runUntilIdle()
        XCTAssertEqual((beforeCheckpoint + second.out.values).sorted(), expected)
    }
}
