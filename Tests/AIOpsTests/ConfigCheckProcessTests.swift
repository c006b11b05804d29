import Foundation
import VigilTestSupport
import XCTest

/// `vigil check --config` and `vigil run --config` on good and bad configuration files.
final class ConfigCheckProcessTests: XCTestCase {
    var work = ""

    override func setUpWithError() throws {
        work = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-config-\(UUID())").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: work) }

    func check(_ yaml: String) throws -> (status: Int32, stdout: String, stderr: String) {
        let path = work + "/vigil.yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return try ChildProcesses.runVigilCapturingOutput(["check", "--config", path])
    }

    func testAFullConfigurationIsValid() throws {
        let (status, out, err) = try check("""
            kafka:
              brokers: "kafka-1:9092,kafka-2:9092"
              group: vigil-prod
              encoding: otlp_json
              dead_letter_topic: vigil_dead
              topics: {spans: traces, logs: logs, metrics: metrics}
              signals: [spans, logs]
              max_delay: 2s
            windows: {red: 10s, graph: 1m, logs: 1m}
            detectors: {red: mad, log_warmup_windows: 10}
            incidents: {quiet: 5m}
            checkpoints: {dir: /var/lib/vigil, interval: 30s}
            output: {dir: /var/lib/vigil/incidents}
            remediation:
              services:
                orders: {team: shop}
              policies:
                - name: page
                  match: {severity: critical}
                  actions:
                    - webhook: {url: "http://alertmanager:9093/api/v2/alerts", body: alertmanager}
            demo: {fault: error-burst, speed: 20}
            """)
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains("valid, with 1 policies, 1 actions"), out)
    }

    /// Each bad file is rejected with its line and a reason that names the problem.
    func testBadConfigurationsAreRejectedWithTheLineAndTheReason() throws {
        let cases: [(yaml: String, line: Int, reason: String)] = [
            ("kafka:\n  brokerz: x\n", 2, "unknown key 'brokerz' in kafka; expected one of: brokers, dead_letter_topic, encoding, group, max_delay, signals, topics"),
            ("kafak:\n  brokers: x\n", 1, "unknown key 'kafak' in the configuration"),
            ("kafka:\n  encoding: avro\n", 2, "kafka.encoding: unknown 'avro'; expected otlp_proto or otlp_json"),
            ("kafka:\n  signals: [spans, traces]\n", 2, "kafka.signals: expected some of spans, logs, metrics; got spans, traces"),
            ("kafka:\n  max_delay: 5\n", 2, "kafka.max_delay: '5' is not a duration"),
            ("windows:\n  red: 1500ms\n", 2, "windows.red must be a positive whole number of seconds"),
            ("windows:\n  graph: 0s\n", 2, "windows.graph must be a positive whole number of seconds"),
            ("detectors:\n  red: prophet\n", 2, "detectors.red: unknown 'prophet'; expected one of"),
            ("detectors:\n  log_warmup_windows: many\n", 2, "detectors.log_warmup_windows must be a whole number"),
            ("checkpoints:\n  interval: 0s\n", 2, "checkpoints.interval must be positive"),
            ("incidents: {quiet: forever}\n", 1, "incidents.quiet: 'forever' is not a duration"),
            ("demo: {fault: meteor}\n", 1, "demo.fault: unknown 'meteor'; expected one of db-latency, error-burst"),
            ("demo: {speed: 5000}\n", 1, "demo.speed must be a number within 1...1000"),
            ("remediation:\n  policies:\n    - name: a\n      actions: [{exec: {program: rm}}]\n", 4, "exec.program 'rm' must be an absolute path"),
            ("remediation:\n  policies:\n    - name: a\n      actions: [{exec: {program: /bin/true}}]\n", 1, "remediation needs checkpoints.dir"),
            ("windows: [10s]\n", 1, "windows must be a mapping of keys to values"),
            ("kafka: {brokers: x\n", 2, "not valid YAML"),
        ]
        for c in cases {
            let (status, _, err) = try check(c.yaml)
            XCTAssertEqual(status, 1, "\(c.reason): \(err)")
            XCTAssertTrue(err.contains("\(work)/vigil.yaml:\(c.line): "), "expected line \(c.line) for \(c.reason): \(err)")
            XCTAssertTrue(err.contains(c.reason), "expected '\(c.reason)' in: \(err)")
        }
    }

    func testVigilRunRefusesABadConfigurationBeforeStarting() throws {
        let path = work + "/vigil.yaml"
        try "windows: {red: soon}\n".write(toFile: path, atomically: true, encoding: .utf8)
        let (status, out, err) = try ChildProcesses.runVigilCapturingOutput(["run", "--config", path])
        XCTAssertEqual(status, 2, out + err)
        XCTAssertTrue(err.contains("vigil.yaml:1: windows.red: 'soon' is not a duration"), err)
        XCTAssertFalse(out.contains("vigil demo"), "nothing started: \(out)")
    }
}
