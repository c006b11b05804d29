import Detectors
import Foundation
import VigilTestSupport
import XCTest

/// `vigil bench nab` as a user runs it: a real process on a small NAB-style folder.
final class BenchNABCommandTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-bench-nab-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("data/synthetic"), withIntermediateDirectories: true)
        // 1,500 five-minute points of a level series with a jump of +40 at row 1,200, written
        // with \r\n line ends as some NAB files are; one window around the jump.
        var rows = ["timestamp,value"]
        var times: [String] = []
        for i in 0..<1500 {
            let seconds = i * 300
            let t = String(format: "2024-01-%02d %02d:%02d:00", 1 + seconds / 86_400, seconds % 86_400 / 3600, seconds % 3600 / 60)
            times.append(t)
            rows.append("\(t),\(100 + Double((i * 7919) % 11) + (i >= 1200 ? 40 : 0))")
        }
        try (rows.joined(separator: "\r\n") + "\r\n").write(to: dir.appendingPathComponent("data/synthetic/jump.csv"), atomically: true, encoding: .utf8)
        let labels = ["synthetic/jump.csv": [[times[1150] + ".000000", times[1250] + ".000000"]]]
        try JSONEncoder().encode(labels).write(to: dir.appendingPathComponent("labels.json"))
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func testRunsWritesNABResultsAndScoresThem() throws {
        let out = dir.appendingPathComponent("results").path
        let (status, stdout, stderr) = try ChildProcesses.runVigilCapturingOutput([
            "bench", "nab", "--data", dir.appendingPathComponent("data").path, "--labels", dir.appendingPathComponent("labels.json").path,
            "--out", out, "--detector", "ensemble", "--detector", "ewma"])
        XCTAssertEqual(status, 0, stderr)
        XCTAssertTrue(stdout.contains("1 series, 1500 points, 1 windows"), stdout)
        // The jump is caught early in its window and nothing else fires: a perfect-ish score.
        let line = try XCTUnwrap(stdout.split(separator: "\n").first { $0.hasPrefix("ensemble") }, stdout)
        let standard = try XCTUnwrap(Double(line.split(separator: " ", omittingEmptySubsequences: true)[1]), String(line))
        XCTAssertGreaterThan(standard, 80, stdout)

        let file = "\(out)/ensemble/synthetic/ensemble_jump.csv"
        let written = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(written.first, "timestamp,value,anomaly_score,label")
        XCTAssertEqual(written.count, 1501)
        XCTAssertTrue(written[1151].hasSuffix(",1") && written[1150].hasSuffix(",0"), "label 1 from the window's first row")

        // Scoring the written results again gives the same figures.
        let (again, rescored, errors) = try ChildProcesses.runVigilCapturingOutput([
            "bench", "nab", "--data", dir.appendingPathComponent("data").path, "--labels", dir.appendingPathComponent("labels.json").path,
            "--results", out, "--detector", "ensemble"])
        XCTAssertEqual(again, 0, errors)
        let rescoredLine = try XCTUnwrap(rescored.split(separator: "\n").first { $0.hasPrefix("ensemble") })
        XCTAssertEqual(rescoredLine.split(separator: " ")[1], line.split(separator: " ")[1])
    }

    /// `--range-hint` gives the level-cutting detectors the file's range, as NAB's framework
    /// does, and names their results apart; the others run as they are.
    func testARangeHintRunIsNamedApart() throws {
        let out = dir.appendingPathComponent("results").path
        let (status, stdout, stderr) = try ChildProcesses.runVigilCapturingOutput([
            "bench", "nab", "--data", dir.appendingPathComponent("data").path, "--labels", dir.appendingPathComponent("labels.json").path,
            "--out", out, "--detector", "ensemble", "--detector", "ewma", "--range-hint"])
        XCTAssertEqual(status, 0, stderr)
        XCTAssertTrue(stdout.contains("\nensemble-range-hint "), stdout)
        XCTAssertTrue(stdout.contains("\newma "), stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(out)/ensemble-range-hint/synthetic/ensemble-range-hint_jump.csv"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(out)/ewma/synthetic/ewma_jump.csv"))
    }

    func testAWindowThatIsNotInItsFileIsRejectedNamingIt() throws {
        try JSONEncoder().encode(["synthetic/jump.csv": [["2030-01-01 00:00:00.000000", "2030-01-02 00:00:00.000000"]]])
            .write(to: dir.appendingPathComponent("labels.json"))
        let (status, stderr) = try ChildProcesses.runVigil([
            "bench", "nab", "--data", dir.appendingPathComponent("data").path, "--labels", dir.appendingPathComponent("labels.json").path,
            "--out", dir.appendingPathComponent("results").path])
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(stderr.contains("of synthetic/jump.csv does not start and end at rows of"), stderr)
    }
}
