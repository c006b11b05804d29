import Detectors
import Foundation
import VigilTestSupport
import XCTest

/// `vigil logs parse` as a user runs it: a real process on a file.
final class LogsParseCommandTests: XCTestCase {
    func testParsesAFileAndReportsLinesThatDoNotMatchTheFormat() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-logs-parse-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("app.log").path
        try """
            2026-11-25 10:00:01 INFO: Connection to 10.2.3.4:5432 timed out after 3000 ms
            this line has no header
            2026-11-25 10:00:02 WARN: Connection to 10.2.3.9:5432 timed out after 1500 ms
            2026-11-25 10:00:03 INFO: user "a, b" logged in

            """.write(toFile: input, atomically: true, encoding: .utf8)
        let output = dir.appendingPathComponent("structured.csv").path
        let templates = dir.appendingPathComponent("templates.csv").path

        let (status, errors) = try ChildProcesses.runVigil(["logs", "parse", "--format", "<Date> <Time> <Level>: <Content>", "--mask", #"(?<=after )\d+"#,
                       "--input", input, "--output", output, "--templates", templates])
        XCTAssertEqual(status, 0, errors)
        XCTAssertTrue(errors.contains("\(input):2: does not match the log format"), errors)
        XCTAssertTrue(errors.contains("3 lines parsed into 2 templates, 1 line did not match the format"), errors)

        let rows = try CSVReader.rows(String(contentsOfFile: output, encoding: .utf8))
        XCTAssertEqual(rows, [
            ["LineId", "Content", "EventId", "EventTemplate"],
            ["1", "Connection to 10.2.3.4:5432 timed out after 3000 ms", "E1", "Connection to <*> timed out after <*> ms"],
            ["3", "Connection to 10.2.3.9:5432 timed out after 1500 ms", "E1", "Connection to <*> timed out after <*> ms"],
            ["4", #"user "a, b" logged in"#, "E2", #"user "a, b" logged in"#],
        ])
        XCTAssertEqual(try CSVReader.rows(String(contentsOfFile: templates, encoding: .utf8)), [
            ["EventId", "EventTemplate", "Occurrences"],
            ["E1", "Connection to <*> timed out after <*> ms", "2"],
            ["E2", #"user "a, b" logged in"#, "1"],
        ])
    }

    func testABadMaskIsRejectedNamingIt() throws {
        let (status, errors) = try ChildProcesses.runVigil(["logs", "parse", "--format", "<Content>", "--mask", "(?<=x", "--input", "/dev/null", "--output", "/dev/null"])
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(errors.contains("invalid regex '(?<=x'"), errors)
    }
}
