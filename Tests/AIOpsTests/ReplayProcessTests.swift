import Foundation
import VigilTestSupport
import XCTest

/// `vigil replay` as a team uses it before trusting a detector: the demo shop's telemetry in
/// a real Kafka (vigil broker), the live job (`vigil run --brokers`) reporting as it comes,
/// then a replay of the recorded range reporting the same incidents, scored against the
/// fault's labelled window, with a report that renders in headless Chromium.
final class ReplayProcessTests: XCTestCase {
    func testAReplayOfTheRecordedRangeReportsWhatTheLiveRunReported() throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-replay-\(UUID())").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let (broker, brokers) = try ChildProcesses.startBroker(topics: ["otlp_spans:4", "otlp_logs:4"], work: work, options: ["--brokers", "1"])
        defer { broker.terminate() }
        let job = ["--json", "--detector", "ewma", "--quiet-seconds", "120", "--signal", "spans", "--signal", "logs"]
        let from = Int64(Date().timeIntervalSince1970 * 1000)
        let live = try ChildProcesses.startVigil(["run", "--brokers", brokers, "--no-metrics", "--group", "live"] + job,
                                                 log: work + "/live.err", stdout: work + "/live.jsonl")
        defer { if live.isRunning { live.terminate() } }
        let shop = try ChildProcesses.runVigil(["demo-shop", "--brokers", brokers, "--speed", "200", "--labels-out", work + "/labels.json"])
        XCTAssertEqual(shop.status, 0, shop.stderr)
        // The live run is stopped once it has closed the fault's incident.
        func liveLines() -> [String] { ((try? String(contentsOfFile: work + "/live.jsonl", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init) }
        let deadline = Date().addingTimeInterval(120)
        while live.isRunning, Date() < deadline, !liveLines().contains(where: { $0.contains("\"change\":\"closed\"") }) { Thread.sleep(forTimeInterval: 0.2) }
        live.terminate()
        live.waitUntilExit()
        let to = Int64(Date().timeIntervalSince1970 * 1000)
        let reported = liveLines()
        let closed = try XCTUnwrap(reported.first { $0.contains("\"change\":\"closed\"") }, "the live run closed no incident: \(reported)")
        XCTAssertTrue(closed.contains("\"causes\":[{\"entity\":\"postgresql/orders\""), closed)

        let report = work + "/report"
        let replay = try ChildProcesses.runVigilCapturingOutput(["replay", "--brokers", brokers, "--from", "\(from)", "--to", "\(to)",
                                                                 "--labels", work + "/labels.json", "--report", report] + job)
        XCTAssertEqual(replay.status, 0, replay.stderr)
        let replayed = replay.stdout.split(separator: "\n").map(String.init)
        // Line for line what the live run said; the replay may go on (the end of its input
        // closes what the live run had not closed when it was stopped).
        XCTAssertGreaterThanOrEqual(replayed.count, reported.count, replay.stderr)
        XCTAssertEqual(Array(replayed.prefix(reported.count)), reported)

        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report + "/report.json"))) as? [String: Any])
        let incidents = try XCTUnwrap(json["incidents"] as? [String: Any])
        XCTAssertEqual(incidents["detected_windows"] as? Int, 1, "\(incidents)")
        XCTAssertEqual(incidents["recall"] as? Double, 1)
        XCTAssertEqual(incidents["root_cause_first"] as? Int, 1, "\(incidents)")
        let detectors = try XCTUnwrap(json["detectors"] as? [String: Any])
        XCTAssertGreaterThan(detectors["points"] as? Int ?? 0, 1000)
        XCTAssertNotNil((detectors["nab"] as? [String: Double])?["standard"])
        let range = try XCTUnwrap(json["range"] as? [String: Any])
        XCTAssertGreaterThan(range["messages"] as? Int ?? 0, 100)
        XCTAssertTrue(replay.stderr.contains("windows detected 1/1"), replay.stderr)

        // The page renders: a screenshot in headless Chromium shows the plots' colours (the
        // windows' orange at 35% over white).
        let png = work + "/report.png"
        _ = try ChildProcesses.run("chromium", ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1000,1600",
                                                "--screenshot=\(png)", "file://\(report)/index.html"], timeout: 120)
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/png_colors.py").path
        let counts = try ChildProcesses.run("python3", [fixture, png, "value=1c64d1", "flag=e02020", "window=ffe4bf"])
        var pixels: [String: Int] = [:]
        for line in counts.split(separator: "\n") {
            let parts = line.split(separator: " ")
            pixels[String(parts[0])] = Int(parts[1])
        }
        XCTAssertGreaterThan(pixels["value"] ?? 0, 500, "series lines drawn: \(pixels)")
        XCTAssertGreaterThan(pixels["flag"] ?? 0, 20, "flagged points drawn: \(pixels)")
        XCTAssertGreaterThan(pixels["window"] ?? 0, 500, "labelled windows shaded: \(pixels)")
    }

    func testBadRangesAndLabelsAreRejectedWithTheProblemNamed() throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-replay-bad-\(UUID())").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let labels = work + "/labels.json"
        try #"{"windows": [{"start": "2026-12-04T10:00:00Z", "end": "yesterday"}]}"#.write(toFile: labels, atomically: true, encoding: .utf8)
        let cases: [([String], String)] = [
            (["--from", "last tuesday"], "--from 'last tuesday': not a time"),
            (["--to", "2026-13-01"], "--to '2026-13-01': not a time"),
            (["--state", work], "a replay keeps no state"),
            (["--labels", labels], "windows[0].end: yesterday is not a time"),
            (["--topics", "otlp_traces"], "--topics: 'otlp_traces' is not the spans, logs or metrics topic"),
        ]
        for (arguments, expected) in cases {
            let r = try ChildProcesses.runVigil(["replay", "--brokers", "127.0.0.1:1"] + arguments)
            XCTAssertNotEqual(r.status, 0, "\(arguments)")
            XCTAssertTrue(r.stderr.contains(expected), "\(arguments): \(r.stderr)")
        }
    }
}
