import Foundation
import VigilTestSupport
import XCTest

/// Dead letters are delivered before a job reports itself done, even with checkpointing off
/// and a slow cluster: a bounded `otlp-dump` that exits must not take undelivered dead letters
/// with it. (It once did: they were only flushed before checkpoints, and a job without
/// checkpoints exited with them still queued, delivered only if the producer's deinit ran in
/// time. This test passes with either; it guards the property, not the mechanism.)
final class DeadLetterDeliveryProcessTests: XCTestCase {
    func testABoundedJobWithoutCheckpointsDeliversItsDeadLettersBeforeItExits() throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-dlq-\(UUID())").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        // Every broker answers after 250 ms: a produce is not acknowledged before the dump ends.
        let (broker, brokers) = try ChildProcesses.startBroker(topics: ["otlp_bad:1"], work: work, options: ["--brokers", "1", "--rtt-ms", "250"])
        defer { broker.terminate(); broker.waitUntilExit() }

        for (i, garbage) in ["not protobuf at all", "\u{0A}\u{FF}truncated"].enumerated() {
            let file = "\(work)/bad-\(i).bin"
            try Data(garbage.utf8).write(to: URL(fileURLWithPath: file))
            try ChildProcesses.run("kcat", ["-P", "-b", brokers, "-t", "otlp_bad", file])
        }
        let dump = try ChildProcesses.startVigil(
            ["otlp-dump", "--brokers", brokers, "--signal", "spans", "--topic", "otlp_bad", "--stop-at-end", "--output", "\(work)/out"],
            log: "\(work)/dump.log")
        dump.waitUntilExit()
        let log = (try? String(contentsOfFile: "\(work)/dump.log", encoding: .utf8)) ?? ""
        XCTAssertEqual(dump.terminationStatus, 0, log)
        XCTAssertTrue(log.contains("2 messages, 2 dead letters"), log)

        // Read once, right away: what the dump delivered is there; nothing is waited for.
        let headers = try ChildProcesses.run("kcat", ["-C", "-b", brokers, "-t", "vigil_dead_letters", "-e", "-q", "-f", "%h\n"])
        let lines = headers.split(separator: "\n")
        XCTAssertEqual(lines.count, 2, "dead letters on the topic after the dump exited:\n\(headers)\ndump log:\n\(log)")
        for offset in 0..<2 {
            XCTAssertTrue(lines.contains { $0.contains("vigil.source.topic=otlp_bad,vigil.source.partition=0,vigil.source.offset=\(offset),") }, headers)
        }
    }
}
