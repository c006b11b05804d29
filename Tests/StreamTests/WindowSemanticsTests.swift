import XCTest
@testable import Stream

/// Window semantics on the deterministic harness: records and watermarks sent by hand.
final class WindowSemanticsTests: XCTestCase {
    typealias Windows = StreamTestHarness<Event, WindowResult<String, SumCount.Acc>>

    /// Ends at the window operator itself, so that its late side output can be collected.
    func tumbling(_ lateTag: OutputTag<Event>? = nil, lateness: TimeSpan = .zero) -> Windows {
        StreamTestHarness(of: Event.self) { events in
            var w = events.keyBy(\.key).window(.tumbling(.seconds(10))).allowedLateness(lateness)
            if let lateTag { w = w.sideOutputLateData(lateTag) }
            return w.aggregate(SumCount())
        }
    }

    func testTumblingWindowsFireAtWatermarkWithOutOfOrderInput() throws {
        let h = tumbling()
        try h.send([(Event("a", 1, at: 1_000), 1_000), (Event("b", 10, at: 9_999), 9_999),
                    (Event("a", 2, at: 12_000), 12_000), (Event("a", 4, at: 3_000), 3_000)])  // out of order
        XCTAssertEqual(h.output.map(row), [], "nothing fires before the watermark passes the window end")
        try h.watermark(9_998)
        XCTAssertEqual(h.output.map(row), [], "window [0,10000) has max timestamp 9999")
        try h.watermark(9_999)
        XCTAssertEqual(h.takeOutput().map(row).sorted(), [Row(key: "a", start: 0, end: 10_000, sum: 5, count: 2),
                                                 Row(key: "b", start: 0, end: 10_000, sum: 10, count: 1)])
        try h.end()
        XCTAssertEqual(h.takeOutput().map(row), [Row(key: "a", start: 10_000, end: 20_000, sum: 2, count: 1)],
                       "end of input fires the remaining windows")
    }

    func testResultsCarryWindowMaxTimestamp() throws {
        let h = tumbling()
        try h.send(Event("a", 1, at: 1_500), at: 1_500)
        try h.watermark(20_000)
        XCTAssertEqual(h.outputRecords.map(\.timestamp), [9_999])
    }

    func testSlidingWindowsAssignEachRecordToEveryOverlappingWindow() throws {
        let h = StreamTestHarness(of: Event.self) { events in
            events.keyBy(\.key).window(.sliding(.seconds(10), every: .seconds(5))).aggregate(SumCount()).map(row)
        }
        try h.send([(Event("a", 1, at: 7_000), 7_000), (Event("a", 2, at: 12_000), 12_000)])
        try h.watermark(30_000)
        XCTAssertEqual(h.output.sorted(), [
            Row(key: "a", start: 0, end: 10_000, sum: 1, count: 1),
            Row(key: "a", start: 5_000, end: 15_000, sum: 3, count: 2),
            Row(key: "a", start: 10_000, end: 20_000, sum: 2, count: 1),
        ])
    }

    func testSessionWindowsMergeWhenARecordBridgesTwoSessions() throws {
        let h = StreamTestHarness(of: Event.self) { events in
            events.keyBy(\.key).window(.session(gap: .seconds(5))).aggregate(SumCount()).map(row)
        }
        // Two sessions for "a": [1000, 6000) and [9000, 14000) ...
        try h.send([(Event("a", 1, at: 1_000), 1_000), (Event("a", 2, at: 9_000), 9_000),
                    (Event("b", 7, at: 2_000), 2_000)])
        try h.watermark(5_000)
        XCTAssertEqual(h.output, [])
        // ... bridged by a record at 5000 ([5000, 10000) touches both): one session [1000, 14000).
        try h.send(Event("a", 4, at: 5_000), at: 5_000)
        try h.watermark(13_999)
        XCTAssertEqual(h.takeOutput().sorted(), [
            Row(key: "a", start: 1_000, end: 14_000, sum: 7, count: 3),
            Row(key: "b", start: 2_000, end: 7_000, sum: 7, count: 1),
        ])
        try h.send(Event("a", 100, at: 30_000), at: 30_000)
        try h.end()
        XCTAssertEqual(h.takeOutput(), [Row(key: "a", start: 30_000, end: 35_000, sum: 100, count: 1)])
    }

    func testAllowedLatenessProducesUpdatedResultsThenLateSideOutput() throws {
        let late = OutputTag<Event>("late")
        let h = tumbling(late, lateness: .seconds(5))
        let lateRecords = h.sideOutput(late)
        try h.send(Event("a", 1, at: 1_000), at: 1_000)
        try h.watermark(10_000)
        XCTAssertEqual(h.takeOutput().map(row), [Row(key: "a", start: 0, end: 10_000, sum: 1, count: 1)])
        // Late, but within the allowed lateness: the window fires again with the update.
        try h.send(Event("a", 2, at: 2_000), at: 2_000)
        XCTAssertEqual(h.takeOutput().map(row), [Row(key: "a", start: 0, end: 10_000, sum: 3, count: 2)])
        // A new key in the same window also fires at once.
        try h.send(Event("c", 5, at: 3_000), at: 3_000)
        XCTAssertEqual(h.takeOutput().map(row), [Row(key: "c", start: 0, end: 10_000, sum: 5, count: 1)])
        XCTAssertEqual(lateRecords.values, [])
        // Past end + lateness (9999 + 5000): the window is gone, the record goes to the side output.
        try h.watermark(14_999)
        try h.send(Event("a", 3, at: 4_000), at: 4_000)
        XCTAssertEqual(h.output.map(row), [])
        XCTAssertEqual(lateRecords.values, [Event("a", 3, at: 4_000)])
        XCTAssertEqual(lateRecords.records.map(\.timestamp), [4_000])
    }

    func testLateRecordsWithoutSideOutputAreCountedNotSilentlyDropped() throws {
        let h = tumbling()
        try h.watermark(20_000)
        try h.send(Event("a", 1, at: 1_000), at: 1_000)
        XCTAssertEqual(h.output.map(row), [])
        XCTAssertEqual(h.metrics.tasks.reduce(0) { $0 + $1.lateRecordsDropped }, 1)
    }

    func testSessionLateRecordWithinLatenessExtendsAndRefiresTheSession() throws {
        let late = OutputTag<Event>("late")
        let h = StreamTestHarness(of: Event.self) { events in
            events.keyBy(\.key).window(.session(gap: .seconds(5))).allowedLateness(.seconds(10))
                .sideOutputLateData(late).aggregate(SumCount())
        }
        let lateRecords = h.sideOutput(late)
        try h.send(Event("a", 1, at: 1_000), at: 1_000)
        try h.watermark(7_000)
        XCTAssertEqual(h.takeOutput().map(row), [Row(key: "a", start: 1_000, end: 6_000, sum: 1, count: 1)])
        // Merges into the fired session, extending it to [1000, 8000): it fires again at 7999.
        try h.send(Event("a", 2, at: 3_000), at: 3_000)
        XCTAssertEqual(h.output.map(row), [])
        try h.watermark(7_999)
        XCTAssertEqual(h.takeOutput().map(row), [Row(key: "a", start: 1_000, end: 8_000, sum: 3, count: 2)])
        // Within lateness (cleanup at 7999 + 10000), a record merging into a session that already
        // passed the watermark fires it again at once.
        try h.watermark(15_000)
        try h.send(Event("a", 4, at: 2_000), at: 2_000)
        XCTAssertEqual(h.takeOutput().map(row), [Row(key: "a", start: 1_000, end: 8_000, sum: 7, count: 3)])
        try h.watermark(30_000)
        XCTAssertEqual(h.output.map(row), [], "cleanup does not fire again")
        try h.send(Event("a", 9, at: 2_000), at: 2_000)
        XCTAssertEqual(lateRecords.values.map(\.value), [9])
    }

    func testProcessingTimeWindowsFireOnTheManualClock() throws {
        let h = StreamTestHarness(of: Event.self, startingAt: 1_000) { events in
            events.keyBy(\.key).window(.tumbling(.seconds(10), time: .processingTime)).aggregate(SumCount()).map(row)
        }
        try h.send(Event("a", 1, at: 0))
        try h.advanceProcessingTime(to: 5_000)
        try h.send(Event("a", 2, at: 0))
        XCTAssertEqual(h.output, [])
        try h.advanceProcessingTime(to: 9_999)
        XCTAssertEqual(h.takeOutput(), [Row(key: "a", start: 0, end: 10_000, sum: 3, count: 2)])
        try h.advanceProcessingTime(to: 12_000)
        try h.send(Event("a", 5, at: 0))
        try h.advanceProcessingTime(to: 19_999)
        XCTAssertEqual(h.takeOutput(), [Row(key: "a", start: 10_000, end: 20_000, sum: 5, count: 1)])
    }

    func testFullWindowFunctionSeesAllRecords() throws {
        let h = StreamTestHarness(of: Event.self) { events in
            events.keyBy(\.key).window(.tumbling(.seconds(10))).process { key, window, records in
                "\(key) \(window): \(records.map(\.value).sorted())"
            }
        }
        try h.send([(Event("a", 3, at: 1), 1), (Event("a", 1, at: 2), 2), (Event("a", 2, at: 3), 3)])
        try h.end()
        XCTAssertEqual(h.output, ["a [0, 10000): [1, 2, 3]"])
    }

    func testEventTimeWindowWithoutTimestampsFailsWithAClearError() throws {
        let h = tumbling()
        XCTAssertThrowsError(try h.send(Event("a", 1, at: 0))) { error in
            XCTAssertTrue("\(error)".contains("no event timestamp"), "\(error)")
            XCTAssertTrue("\(error)".contains("window"), "\(error)")
        }
    }

    func testWatermarkIsTheMinimumOverInputsAndIdleInputsAreExcluded() throws {
        // Two manual sources unioned: the window fires only when both have passed its end.
        let env = StreamEnvironment(name: "two-inputs")
        let (s1, in1) = env.manualSource(Event.self, name: "in1")
        let (s2, in2) = env.manualSource(Event.self, name: "in2")
        let out = s1.union(s2).keyBy(\.key).window(.tumbling(.seconds(10))).aggregate(SumCount()).map(row).collect()
        let run = try env.embedded()
        in1.send(Event("a", 1, at: 1_000), at: 1_000)
        in2.send(Event("a", 2, at: 2_000), at: 2_000)
        in1.watermark(10_000)
        try run.runUntilIdle()
        XCTAssertEqual(out.values, [], "in2 still holds the watermark back")
        in2.watermark(10_000)
        try run.runUntilIdle()
        XCTAssertEqual(out.values, [Row(key: "a", start: 0, end: 10_000, sum: 3, count: 2)])
    }
}

/// Idle inputs, and timestamps assigned mid-stream.
final class EventTimeTests: XCTestCase {
    func testAnIdleInputStopsHoldingBackTheWatermarkAndRejoinsWhenActive() throws {
        let env = StreamEnvironment(name: "idle")
        let (busy, busyIn) = env.manualSource(Event.self, name: "busy", idleTimeout: .seconds(5))
        let (quiet, quietIn) = env.manualSource(Event.self, name: "quiet", idleTimeout: .seconds(5))
        let out = busy.union(quiet).keyBy(\.key).window(.tumbling(.seconds(10))).aggregate(SumCount()).map(row).collect()
        let run = try env.embedded(startingAt: 0)
        quietIn.send(Event("a", 100, at: 500), at: 500)  // the quiet input is active at first
        busyIn.send(Event("a", 1, at: 1_000), at: 1_000)
        busyIn.watermark(10_000)
        try run.runUntilIdle()
        XCTAssertEqual(out.values, [], "the quiet input has no watermark yet: it holds event time back")

        // Four seconds without records: not idle yet.
        try run.advanceProcessingTime(to: 4_000)
        busyIn.watermark(10_001)
        try run.runUntilIdle()
        XCTAssertEqual(out.values, [])

        // Past the idle timeout the quiet input is excluded; the busy one's watermark rules.
        try run.advanceProcessingTime(to: 5_000)
        busyIn.send(Event("a", 2, at: 12_000), at: 12_000)
        busyIn.watermark(12_000)
        try run.runUntilIdle()
        XCTAssertEqual(out.values, [Row(key: "a", start: 0, end: 10_000, sum: 101, count: 2)])

        // It comes back: with its watermark behind, it holds the next window again. (Whatever
        // the busy input delivered while the quiet one was idle stands; as in Flink, records
        // of an input returning from idleness can be late.)
        quietIn.send(Event("a", 10, at: 15_000), at: 15_000)
        quietIn.watermark(15_000)
        try run.runUntilIdle()
        busyIn.watermark(25_000)
        try run.runUntilIdle()
        XCTAssertEqual(out.count, 1, "window [10s, 20s) waits for the quiet input's watermark")
        quietIn.watermark(20_000)
        try run.runUntilIdle()
        XCTAssertEqual(out.values.last, Row(key: "a", start: 10_000, end: 20_000, sum: 12, count: 2))
    }

    func testAssignTimestampsMidStreamReplacesUpstreamTimeAndDrivesWindows() throws {
        let h = StreamTestHarness(of: String.self) { lines in
            lines.map { line -> Event in
                let f = line.split(separator: ",")
                return Event(String(f[0]), Int(f[1])!, at: Int64(f[2])!)
            }
            .assignTimestamps(.boundedOutOfOrderness(.milliseconds(100)) { $0.ts })
            .keyBy(\.key).window(.tumbling(.seconds(1))).aggregate(SumCount()).map(row)
        }
        try h.send("a,1,100")
        try h.send("a,2,900")
        try h.send("a,4,1050")
        XCTAssertEqual(h.output, [], "watermark 1050 - 100 - 1 = 949 has not passed 999")
        try h.send("b,8,1200")
        XCTAssertEqual(h.output, [Row(key: "a", start: 0, end: 1_000, sum: 3, count: 2)])
        XCTAssertEqual(h.outputRecords.map(\.timestamp), [999])
    }
}
