import Foundation
import VigilTestSupport
import XCTest

/// `vigil run` with no brokers, as a newcomer runs it: the demo's incident, its root cause
/// and the dry-run remediation appear in its output within the time limit.
final class RunDemoProcessTests: XCTestCase {
    func testTheDemoFindsTheSlowDatabaseAndSaysWhatItWouldDo() throws {
        let started = Date()
        let (status, out, errors) = try ChildProcesses.runVigilCapturingOutput(["run", "--timeout-seconds", "150"])
        XCTAssertEqual(status, 0, "\(out)\n\(errors.suffix(2000))")
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
