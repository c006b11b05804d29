import Foundation
import Probes
import Stream
import XCTest

/// The process lifecycle probe for real (CI runs as root on a kernel that allows BPF): a child
/// that exits with code 7 is seen starting and ending, with its code and how long it lived.
final class ProcessProbeTests: XCTestCase {
    func testAChildExitingWithSevenIsSeenStartingAndEndingWithItsCode() throws {
        let env = StreamEnvironment(name: "process-probe", parallelism: 1)
        let events = env.processEvents().collect()
        let job = try env.start()
        defer { job.cancel(); _ = try? job.wait() }
        // The probe is attached once the source has started: wait for any event at all (the
        // machine runs processes; the test starts one more until something is seen).
        let deadline = Date().addingTimeInterval(30)
        while events.count == 0, Date() < deadline {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/true")
            try p.run()
            p.waitUntilExit()
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTAssertGreaterThan(events.count, 0, "the probe saw nothing")

        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/sh")
        child.arguments = ["-c", "sleep 0.3; exit 7"]
        let started = Date()
        try child.run()
        let pid = child.processIdentifier
        child.waitUntilExit()
        let lived = Date().timeIntervalSince(started)
        XCTAssertEqual(child.terminationStatus, 7)

        var exit: ProcessEvent?
        while exit == nil, Date() < deadline {
            exit = events.values.first { $0.kind == .exit && $0.pid == pid }
            if exit == nil { Thread.sleep(forTimeInterval: 0.02) }
        }
        let ended = try XCTUnwrap(exit, "no exit event for pid \(pid)")
        XCTAssertEqual(ended.exitCode, 7)
        XCTAssertNil(ended.signal)
        let duration = Double(ended.durationNanos ?? 0) / 1e9
        XCTAssertGreaterThanOrEqual(duration, 0.3)
        XCTAssertLessThanOrEqual(duration, lived + 0.05)
        XCTAssertEqual(ended.parentPID, getpid())
        XCTAssertEqual(ended.command, "sh")
        let exec = try XCTUnwrap(events.values.first { $0.kind == .exec && $0.pid == pid }, "no exec event for pid \(pid)")
        XCTAssertTrue(["/bin/sh", "/usr/bin/sh"].contains(exec.executable ?? ""), "\(exec)")
        XCTAssertLessThan(exec.timeUnixNanos, ended.timeUnixNanos)
        // Stamped in wall-clock time, near now.
        XCTAssertLessThan(abs(Double(ended.timeUnixNanos) / 1e9 - Date().timeIntervalSince1970), 10)
        // The sleep the shell started is a process of its own, child of the shell.
        XCTAssertTrue(events.values.contains { $0.kind == .exec && $0.parentPID == pid && $0.command == "sleep" }, "\(events.values.filter { $0.parentPID == pid })")
        let attributes = Dictionary(uniqueKeysWithValues: ended.resourceAttributes)
        XCTAssertEqual(attributes["process.pid"], String(pid))
        XCTAssertFalse(attributes["host.name"]?.isEmpty ?? true)
    }
}
