import Foundation
import VigilTestSupport
import XCTest

/// `vigil checkpoints list|inspect|delete` on the state directory of a real job.
final class CheckpointsCommandTests: XCTestCase {
    func testListInspectAndDeleteWhatAJobLeft() throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-checkpoints-\(UUID())").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        XCTAssertEqual(try ChildProcesses.runVigil(["exactly-once-demo", "--input", work + "/in", "--generate", "200000"]).status, 0)
        let run = try ChildProcesses.runVigil(["exactly-once-demo", "--input", work + "/in", "--output", work + "/out", "--state", work + "/st", "--interval-ms", "50"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let dirs = try FileManager.default.contentsOfDirectory(atPath: work + "/st/checkpoints").sorted()
        XCTAssertGreaterThanOrEqual(dirs.count, 2, "\(dirs)")
        let ids = dirs.compactMap { Int($0.dropFirst(4)) }
        let newest = ids.max()!, older = ids.min()!

        var (status, out, err) = try ChildProcesses.runVigilCapturingOutput(["checkpoints", "list", "--state", work + "/st"])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains("checkpoint \(newest) "), out)
        XCTAssertEqual(out.components(separatedBy: "valid").count - 1, ids.count, out)
        XCTAssertTrue(out.split(separator: "\n").first { $0.contains("checkpoint \(newest) ") }?.contains("a restart restores this one") ?? false, out)

        (status, out, err) = try ChildProcesses.runVigilCapturingOutput(["checkpoints", "inspect", "--state", work + "/st", String(newest)])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains("job: exactly-once-demo"), out)
        XCTAssertTrue(out.contains("task-0.state"), out)

        // A damaged older checkpoint is reported as such.
        let olderDir = work + "/st/checkpoints/" + dirs.first { Int($0.dropFirst(4)) == older }!
        let task = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: olderDir).first { $0.hasSuffix(".state") })
        try Data("damaged".utf8).write(to: URL(fileURLWithPath: olderDir + "/" + task))
        (_, out, _) = try ChildProcesses.runVigilCapturingOutput(["checkpoints", "list", "--state", work + "/st"])
        XCTAssertTrue(out.split(separator: "\n").first { $0.contains("checkpoint \(older) ") }?.contains("CORRUPT") ?? false, out)

        // The one a restart restores is kept unless forced; others go.
        let refused = try ChildProcesses.runVigil(["checkpoints", "delete", "--state", work + "/st", String(newest)])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("is the one a restart restores"), refused.stderr)
        XCTAssertEqual(try ChildProcesses.runVigil(["checkpoints", "delete", "--state", work + "/st", String(older)]).status, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: olderDir))
        XCTAssertEqual(try ChildProcesses.runVigil(["checkpoints", "delete", "--state", work + "/st", "--force", String(newest)]).status, 0)
        let missing = try ChildProcesses.runVigil(["checkpoints", "inspect", "--state", work + "/st", "999999"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("no checkpoint or savepoint '999999'"), missing.stderr)
    }
}
