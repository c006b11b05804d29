import Foundation
import VigilTestSupport
import XCTest

/// Without permission a probe fails at start, naming what is missing (here: vigil run as
/// nobody, every capability dropped).
final class ProbePermissionTests: XCTestCase {
    func testWithoutPrivilegesTheProbeSaysWhatIsMissing() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        p.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", try ChildProcesses.vigilExecutable(),
                       "probes", "processes", "--seconds", "1"]
        let errors = Pipe()
        p.standardError = errors
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertNotEqual(p.terminationStatus, 0)
        XCTAssertTrue(text.contains("eBPF probes need root or CAP_BPF and CAP_PERFMON (uid 65534 has neither)"), text)
    }
}
