import Foundation
import VigilTestSupport
import XCTest

/// `vigil run` with no brokers, as a newcomer runs it: the demo's incident, its root cause
/// and the dry-run remediation appear in its output within the time limit.
final class RunDemoProcessTests: XCTestCase {
    /// Also scrapes /metrics while it runs: Prometheus text whose counters move.
    func testTheDemoFindsTheSlowDatabaseAndSaysWhatItWouldDo() throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-run-\(UUID())").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let started = Date()
        let run = try ChildProcesses.startVigil(["run", "--timeout-seconds", "150", "--metrics-port", "0"], log: work + "/stderr", stdout: work + "/stdout")
        defer { if run.isRunning { run.terminate() } }
        func stderr() -> String { (try? String(contentsOfFile: work + "/stderr", encoding: .utf8)) ?? "" }
        var port: Int?
        while port == nil, run.isRunning, Date().timeIntervalSince(started) < 30 {
            if let r = stderr().range(of: "metrics at http://127.0.0.1:") { port = Int(stderr()[r.upperBound...].prefix { $0.isNumber }) }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let metricsPort = try XCTUnwrap(port, stderr())
        // A client that connects and never sends a request must not stop the endpoint.
        let silent = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(metricsPort).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(silent, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        XCTAssertEqual(connected, 0)
        defer { close(silent) }
        var scrapes: [[String: Double]] = []
        while scrapes.count < 2, run.isRunning {
            Thread.sleep(forTimeInterval: 3)  // two scrapes some seconds apart, as Prometheus does
            if let text = PrometheusScrape.fetch(port: metricsPort) { scrapes.append(try PrometheusScrape.parse(text)) }
        }
        XCTAssertEqual(scrapes.count, 2, "the endpoint answered while the job ran")
        if scrapes.count == 2 {
            func total(_ s: [String: Double], _ name: String) -> Double { s.filter { $0.key.hasPrefix(name + "{") || $0.key == name }.values.reduce(0, +) }
            XCTAssertGreaterThan(total(scrapes[1], "vigil_task_records_in_total"), total(scrapes[0], "vigil_task_records_in_total"))
            XCTAssertGreaterThan(total(scrapes[1], "vigil_kafka_messages_total"), 0)
            XCTAssertNotNil(scrapes[1]["vigil_checkpoints_completed_total"])
            XCTAssertEqual(scrapes[1]["vigil_checkpoints_failed_total"], 0)
            // Consumer lag per partition of each source, and how far event time trails the clock.
            let lag = scrapes[1].filter { $0.key.hasPrefix("vigil_kafka_consumer_lag_messages{") }
            XCTAssertTrue(lag.keys.contains { $0.contains("topic=\"otlp_spans\"") && $0.contains("partition=\"0\"") }, "\(lag)")
            XCTAssertTrue(lag.values.allSatisfy { $0 >= 0 }, "\(lag)")
            let watermarkLag = scrapes[1].filter { $0.key.hasPrefix("vigil_task_watermark_lag_seconds{") }
            XCTAssertFalse(watermarkLag.isEmpty, "\(scrapes[1].keys.sorted())")
        }
        run.waitUntilExit()
        let out = (try? String(contentsOfFile: work + "/stdout", encoding: .utf8)) ?? ""
        XCTAssertEqual(run.terminationStatus, 0, "\(out)\n\(stderr().suffix(2000))")
        XCTAssertLessThan(Date().timeIntervalSince(started), 150)
        let blocks = out.components(separatedBy: "\nINCIDENT ").dropFirst()
        XCTAssertTrue(blocks.allSatisfy { $0.hasPrefix("1 ") }, "one incident, no false alarms:\n\(out)")
        let closed = try XCTUnwrap(blocks.last { $0.hasPrefix("1 CLOSED") }, out)
        XCTAssertTrue(closed.contains("most likely cause: postgresql/orders (peer)"), closed)
        XCTAssertTrue(closed.contains("path: frontend → checkout → orders → postgresql/orders"), closed)
        XCTAssertTrue(out.contains("REMEDIATION DRY RUN — policy fail-over-database, incident 1: would exec /usr/local/bin/db-failover postgresql/orders"), out)
        XCTAssertTrue(out.contains("REMEDIATION DRY RUN — policy page-oncall, incident 1: would POST"), out)
        XCTAssertTrue(out.contains("done in"), out)
    }

    /// The fault chosen in a configuration file (which takes precedence over --fault).
    func testTheErrorBurstDemoNamesPaymentInJSONLines() throws {
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-demo-\(UUID()).yaml").path
        try "demo: {fault: error-burst}\nwindows: {red: 10s}\n".write(toFile: config, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: config) }
        let (status, out, errors) = try ChildProcesses.runVigilCapturingOutput(["run", "--config", config, "--fault", "db-latency", "--json", "--timeout-seconds", "150"])
        XCTAssertEqual(status, 0, "\(out)\n\(errors.suffix(2000))")
        let incidents = out.split(separator: "\n").filter { $0.hasPrefix("{\"kind\":\"incident\"") }
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        XCTAssertEqual(Set(incidents.compactMap { $0["id"] as? Int }), [1], out)
        let closed = try XCTUnwrap(incidents.last { $0["change"] as? String == "closed" }, out)
        let cause = try XCTUnwrap((closed["causes"] as? [[String: Any]])?.first, "\(closed)")
        XCTAssertEqual(cause["entity"] as? String, "payment")
        XCTAssertEqual(closed["severity"] as? String, "critical")
        XCTAssertTrue((closed["anomaly_kinds"] as? [String])?.contains("error_ratio") ?? false, "\(closed)")
    }

    func testBadDemoOptionsAreRejected() throws {
        let (status, errors) = try ChildProcesses.runVigil(["run", "--fault", "meteor"])
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(errors.contains("--fault meteor: unknown; choose from db-latency, error-burst"), errors)
    }
}
