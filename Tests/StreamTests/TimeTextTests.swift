import Foundation
import Stream
import XCTest

final class TimeTextTests: XCTestCase {
    func testFormatsAndParsesAgreeWithFoundation() {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var rng = SystemRandomNumberGenerator()
        for ms in [0, 1, -1, 951_782_400_000, 4_102_444_800_123] + (0..<500).map({ _ in Int64.random(in: -2_000_000_000_000...5_000_000_000_000, using: &rng) }) {
            let text = TimeText.rfc3339(ms)
            XCTAssertEqual(text, f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000)), "\(ms)")
            XCTAssertEqual(TimeText.parse(text), ms, text)
        }
    }

    func testParsesTheFormsUsersWrite() {
        let t: Int64 = 1_764_842_400_000  // 2025-12-04T10:00:00Z
        XCTAssertEqual(TimeText.parse("2025-12-04T10:00:00Z"), t)
        XCTAssertEqual(TimeText.parse("2025-12-04T11:30:00+01:30"), t)
        XCTAssertEqual(TimeText.parse("2025-12-04 10:00:00.250000"), t + 250)
        XCTAssertEqual(TimeText.parse("2025-12-04"), t - 10 * 3_600_000)
        XCTAssertEqual(TimeText.parse("\(t)"), t)
        for bad in ["", "yesterday", "2025-13-01", "2025-12-04T10:00", "2025-12-04T10:00:00Zx", "2025-12-04T10:00:00.Z", "2025-12-04X10:00:00"] {
            XCTAssertNil(TimeText.parse(bad), bad)
        }
    }
}
