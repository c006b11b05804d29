import Foundation
import XCTest
@testable import Stream

final class LinesFileReaderTests: XCTestCase {
    /// A reader restored as done closed its file; reading it then closed the same number
    /// again, which by then belonged to a file another thread had opened (found by the
    /// remediation crash test: the dispatcher's outbox read failed with EBADF).
    func testAReaderRestoredAsDoneClosesItsFileOnceOnly() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-lines-\(UUID())").path
        try "a\nb\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var reader = try LinesFileReader(path: path, subtask: 0, parallelism: 1)
        var w = StateWriter()
        w.writeVarint(4)
        true.encode(to: &w)
        var r = StateReader(w.bytes)
        try reader.restorePosition(from: &r)
        // Someone else's file, most likely under the number the reader just gave back.
        let other = open("/dev/null", O_RDONLY)
        XCTAssertGreaterThanOrEqual(other, 0)
        defer { close(other) }
        let context = SourceContext<String>(output: Output<String>(), timestampOf: nil)
        XCTAssertEqual(try reader.read(into: context, limit: 10), .finished)
        XCTAssertEqual(try reader.read(into: context, limit: 10), .finished)
        XCTAssertNotEqual(fcntl(other, F_GETFD), -1, "the reader closed a descriptor that was no longer its own")
    }
}
