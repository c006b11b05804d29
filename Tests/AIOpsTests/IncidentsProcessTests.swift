import AIOps
import Foundation
import Ingest
import RCA
import VigilTestSupport
import XCTest

/// `vigil incidents` as a user runs it: OTLP spans and logs of a small system with an injected
/// fault, produced to `vigil broker` (the mock cluster over TCP); the command as a real process;
/// its incident lines read back.
final class IncidentsProcessTests: XCTestCase {
    func testAnInjectedFaultIsReportedWithItsCauseFromKafka() throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-incidents-\(UUID())").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let (broker, brokers) = try ChildProcesses.startBroker(topics: ["otlp_spans:1", "otlp_logs:1"], work: work)
        defer { broker.terminate(); broker.waitUntilExit() }

        // As the Collector batches: a message per 200 records of one signal, in time order.
        let producer = try KafkaProducer(properties: KafkaProperties(brokers: brokers))
        var spans: [ObservedSpan] = [], logs: [RawLog] = []
        func flush() throws {
            if !spans.isEmpty { try producer.produce(topic: "otlp_spans", key: nil, value: try OTLPReplay.encodeSpans(spans)); spans.removeAll() }
            if !logs.isEmpty { try producer.produce(topic: "otlp_logs", key: nil, value: try OTLPReplay.encodeLogs(logs)); logs.removeAll() }
        }
        for (t, _) in AIOpsPipelineTests.workload(base: 1_700_000_000_000) {
            switch t {
            case .span(let s): spans.append(s)
            case .log(let l): logs.append(l)
            case .metric: break
            }
            if spans.count + logs.count >= 200 { try flush() }
        }
        try flush()
        try producer.produce(topic: "otlp_logs", key: nil, value: Array("not otlp".utf8))
        try producer.flush()

        // A policy acts on the incident once its cause is known: one exec, whatever the number
        // of reports, after the checkpoint that recorded the decision.
        let recordArgv = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("RemediateTests/Fixtures/record_argv.py").path
        try """
            policies:
              - name: restart-cause
                match: {changes: [opened, updated, closed], root_cause_entity: "led*"}
                actions:
                  - exec: {program: \(recordArgv), args: ["\(work)/argv.jsonl", "{incident.id}", "{root_cause.entity}"]}
            """.write(toFile: "\(work)/policies.yaml", atomically: true, encoding: .utf8)

        let output = "\(work)/out"
        let run = try ChildProcesses.startVigil(
            ["incidents", "--brokers", brokers, "--signal", "spans", "--signal", "logs", "--stop-at-end", "--detector", "ewma",
             "--window-seconds", "10", "--log-window-seconds", "60", "--warmup-windows", "3", "--quiet-seconds", "120", "--output", output,
             "--state", "\(work)/state", "--checkpoint-interval-ms", "200", "--policies", "\(work)/policies.yaml"],
            log: "\(work)/incidents.log")
        run.waitUntilExit()
        let log = (try? String(contentsOfFile: "\(work)/incidents.log", encoding: .utf8)) ?? ""
        XCTAssertEqual(run.terminationStatus, 0, log)
        XCTAssertTrue(log.contains("1 dead letters"), log)

        let lines = try String(contentsOfFile: "\(output)/part-0", encoding: .utf8).split(separator: "\n")
        let reports = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        XCTAssertEqual(reports.filter { $0["change"] as? String == "opened" }.count, 1, "\(lines)")
        XCTAssertEqual(Set(reports.compactMap { $0["id"] as? Int }), [1], "one incident, not a second one for the recovery: \(lines)")
        let closed = try XCTUnwrap(reports.last { $0["change"] as? String == "closed" }, "\(lines)")
        let first = try XCTUnwrap((closed["causes"] as? [[String: Any]])?.first, "\(closed)")
        XCTAssertEqual(first["entity"] as? String, "ledger", "\(closed)")
        XCTAssertTrue((first["evidence"] as? [String])?.contains { $0.contains("c.l.LedgerService#88") } ?? false, "\(first)")
        XCTAssertEqual(Set(closed["entities"] as? [String] ?? []), ["gateway", "orders", "ledger"])
        XCTAssertEqual(closed["severity"] as? String, "critical", "errors moved: \(closed)")

        let ran = try String(contentsOfFile: "\(work)/argv.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(ran.count, 1, "\(ran)")
        XCTAssertTrue(ran.first?.contains("\"argv\": [\"1\", \"ledger\"]") ?? false, "\(ran)")
        let audit = try String(contentsOfFile: "\(work)/state/remediation/audit.jsonl", encoding: .utf8)
        XCTAssertTrue(audit.contains("\"event\":\"executed\""), audit)
    }

    func testBadOptionsAreRejectedBeforeConnecting() throws {
        let (status, stderr) = try ChildProcesses.runVigil(["incidents", "--brokers", "127.0.0.1:1", "--signal", "traces"])
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(stderr.contains("traces"), stderr)
        let (status2, stderr2) = try ChildProcesses.runVigil(["incidents", "--brokers", "127.0.0.1:1", "--quiet-seconds", "0"])
        XCTAssertNotEqual(status2, 0)
        XCTAssertTrue(stderr2.contains("--quiet-seconds must be positive"), stderr2)
    }
}
