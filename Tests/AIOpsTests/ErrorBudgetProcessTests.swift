import Foundation
import VigilTestSupport
import XCTest

/// The README's user topology (Examples/ErrorBudget) as a real consumer-group member: the
/// demo shop with payment failing a third of its charges, sent through `vigil broker`; the
/// example reads the spans and alerts on the tenants whose error budget burns, and on no other.
final class ErrorBudgetProcessTests: XCTestCase {
    func testTheExampleAlertsOnTheServiceBurningItsBudgetAndOnlyThere() throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-error-budget-\(UUID())").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let (broker, brokers) = try ChildProcesses.startBroker(topics: ["otlp_spans:4", "otlp_logs:1"], work: work, options: ["--brokers", "1"])
        defer { broker.terminate() }
        let shop = try ChildProcesses.runVigil(["demo-shop", "--brokers", brokers, "--speed", "400", "--fault", "error-burst"])
        XCTAssertEqual(shop.status, 0, shop.stderr)

        let example = URL(fileURLWithPath: try ChildProcesses.vigilExecutable()).deletingLastPathComponent().appendingPathComponent("error-budget").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: example)
        p.arguments = ["--brokers", brokers, "--stop-at-end", "--objective", "0.995", "--short-window-minutes", "1", "--long-window-minutes", "5"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, text)
        let alerts = text.split(separator: "\n").filter { $0.hasPrefix("BURNING ") || $0.hasPrefix("RESOLVED ") }
        XCTAssertTrue(alerts.contains { $0.hasPrefix("BURNING payment at ") }, text)
        XCTAssertTrue(alerts.contains { $0.hasPrefix("RESOLVED payment at ") }, "the alert clears once the fault is over: \(text)")
        // Only payment and the callers its failures fail burn their budgets.
        let tenants = Set(alerts.map { $0.split(separator: " ")[1] })
        XCTAssertTrue(tenants.isSubset(of: ["payment", "checkout", "frontend"]), "\(tenants)")
    }
}
