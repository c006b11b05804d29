import Foundation
import VigilTestSupport
import XCTest

/// `vigil run --probe processes` for real (root, BPF): a long-running process of this host that
/// exits with an error becomes evidence, and an incident about its service opens, even with no
/// telemetry on the Kafka topics at all (their idle sources do not hold event time back). Read
/// while vigil runs: its output to a file must not sit in stdio's buffer (it did).
final class HostProbesProcessTests: XCTestCase {
    func testAnAbnormalExitOfALongRunningProcessOpensAnIncident() throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-probes-run-\(UUID())").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let (broker, brokers) = try ChildProcesses.startBroker(topics: ["otlp_spans:1", "otlp_logs:1"], work: work, options: ["--brokers", "1"])
        defer { broker.terminate() }
        let run = try ChildProcesses.startVigil(["run", "--brokers", brokers, "--probe", "processes", "--probe-min-lifetime-seconds", "1",
                                                 "--signal", "spans", "--json", "--quiet-seconds", "5", "--no-metrics"],
                                                log: work + "/stderr", stdout: work + "/stdout")
        defer { if run.isRunning { run.terminate() } }
        func out() -> String { (try? String(contentsOfFile: work + "/stdout", encoding: .utf8)) ?? "" }
        // A service process of sorts: lives two seconds, then fails.
        let deadline = Date().addingTimeInterval(60)
        Thread.sleep(forTimeInterval: 3)  // the probe attaches
        let failing = Process()
        failing.executableURL = URL(fileURLWithPath: "/bin/sh")
        failing.arguments = ["-c", "sleep 2; exit 3"]
        try failing.run()
        failing.waitUntilExit()
        // Event time moves with the host's process events: start a few more.
        while !out().contains("\"change\":\"opened\""), run.isRunning, Date() < deadline {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/true")
            try p.run()
            p.waitUntilExit()
            Thread.sleep(forTimeInterval: 0.2)
        }
        let opened = try XCTUnwrap(out().split(separator: "\n").first { $0.contains("\"change\":\"opened\"") },
                                   "no incident: \(out())\n\((try? String(contentsOfFile: work + "/stderr", encoding: .utf8)) ?? "")")
        XCTAssertTrue(opened.contains("\"services\":[\"sh\"]"), String(opened))
        XCTAssertTrue(opened.contains("\"first_anomalies\":[\"sh process_exit\"]"), String(opened))
    }
}
