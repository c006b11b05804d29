import AIOps
import Detectors
import Foundation
import Remediate
import XCTest

/// The backtest's scoring on hand-made incidents and detector verdicts: which incident matches
/// which window, the last report of an incident counting, root-cause rank, the detector pairs,
/// and the labels file's two formats and its errors.
final class BacktestScoreTests: XCTestCase {
    func incident(_ id: UInt64, _ change: String, opened: Int64, last: Int64, causes: [String]) -> RemediationIncident {
        RemediationIncident(change: change, id: id, openedMs: opened, lastEvidenceMs: last, anomalies: 1, anomalyKinds: ["p99_ms"],
                            entities: [], services: [], causes: causes.map { .init(entity: $0, entityKind: "service") })
    }

    func testIncidentsMatchWindowsTheyOverlapAndTheLastReportCounts() {
        let windows = [LabelledWindow(name: "db", start: 100_000, end: 200_000, rootCause: "postgresql/*"),
                       LabelledWindow(name: "missed", start: 500_000, end: 600_000)]
        let reports = [incident(1, "opened", opened: 95_000, last: 95_000, causes: []),       // opened just before the label
                       incident(1, "closed", opened: 95_000, last: 150_000, causes: ["orders", "postgresql/orders"]),
                       incident(2, "opened", opened: 300_000, last: 310_000, causes: ["cart"])]  // a false alarm
        let s = IncidentScore(reports: reports, windows: windows)
        XCTAssertEqual(s.incidents, 2)
        XCTAssertEqual(s.detectedWindows, 1)
        XCTAssertEqual(s.precision, 0.5)
        XCTAssertEqual(s.recall, 0.5)
        XCTAssertEqual(s.f1 ?? 0, 0.5, accuracy: 1e-9)
        XCTAssertEqual(s.perWindow[0].delaySeconds, -5)
        XCTAssertEqual(s.perWindow[0].rootCauseRank, 2, "the last report's causes, glob matched")
        XCTAssertEqual(s.rootCauseFirst, 0)
        XCTAssertEqual(s.rootCauseTop3, 1)
        XCTAssertFalse(s.perWindow[1].detected)
    }

    func testDetectorPairsAndFlagsInAndOutOfWindows() {
        func p(_ t: Int64, _ flagged: Bool) -> ScoredPoint {
            ScoredPoint(series: "", time: t, value: 1, score: flagged ? 1 : 0, isAnomaly: flagged, expectedLow: 0, expectedHigh: 2)
        }
        let orders: [ScoredPoint] = (0..<100).map { (i: Int) -> ScoredPoint in p(Int64(i) * 1000, i == 60 || i == 90) }
        let cart: [ScoredPoint] = (0..<100).map { (i: Int) -> ScoredPoint in p(Int64(i) * 1000, false) }
        let series: [String: [ScoredPoint]] = ["orders CreateOrder p99_ms": orders, "cart Get p99_ms": cart]
        let d = DetectorScore(series: series, windows: [LabelledWindow(name: "w", start: 55_000, end: 70_000, series: ["orders *", "cart *"])])
        XCTAssertEqual(d.labelledPairs, 2)
        XCTAssertEqual(d.detectedPairs, 1)
        XCTAssertEqual(d.flagged, 2)
        XCTAssertEqual(d.flaggedInWindows, 1)
        XCTAssertEqual(d.precision, 0.5)
        XCTAssertEqual(d.medianDelaySeconds, 5)
        XCTAssertNotNil(d.nab?["standard"])
    }

    func testLabelsInBothFormatsAndTheirErrors() throws {
        let vigil = try BacktestLabels.parse(Data(#"{"windows": [{"start": "2026-12-04T10:00:00Z", "end": 1796378460000, "series": "orders *"}]}"#.utf8), file: "l.json")
        XCTAssertEqual(vigil, [LabelledWindow(name: "window 2026-12-04T10:00:00.000Z", start: 1_796_378_400_000, end: 1_796_378_460_000, series: ["orders *"])])
        let nab = try BacktestLabels.parse(Data(#"{"a/b.csv": [["2014-02-19 10:50:00.000000", "2014-02-19 11:00:00.000000"]]}"#.utf8), file: "n.json")
        XCTAssertEqual(nab.first?.series, ["a/b.csv"])
        XCTAssertEqual(nab.first.map { $0.end - $0.start }, 600_000)
        for (text, expected) in [(#"{"windows": [{"start": "x", "end": 1}]}"#, "l.json: windows[0].start: x is not a time"),
                                 (#"{"windows": [{"end": 1}]}"#, "\"start\" is missing"),
                                 (#"{"windows": [{"start": 5, "end": 1}]}"#, "ends before it starts"),
                                 (#"{"windows": [{"start": 1, "end": 2, "severity": 3}]}"#, "unknown key \"severity\""),
                                 ("[", "not JSON")] {
            XCTAssertThrowsError(try BacktestLabels.parse(Data(text.utf8), file: "l.json")) { XCTAssertTrue("\($0)".contains(expected), "\($0)") }
        }
    }

    func testAnOpenRangeSaysSo() {
        let r = BacktestReport.Range(from: nil, to: nil, topics: ["otlp_spans"], messages: 10, seconds: 2)
        XCTAssertEqual([r.from, r.to], ["earliest", "end"])
        XCTAssertEqual(r.messagesPerSecond, 5)
    }
}
