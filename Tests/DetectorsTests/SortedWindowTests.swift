import XCTest
import Stream
import VigilTestSupport
@testable import Detectors

final class SortedWindowTests: XCTestCase {
    /// Median, quantiles and MAD against sorting a copy, over random data with many ties.
    func testAgreesWithSortingACopy() {
        var random = SeededRandom(seed: 7)
        for capacity in [1, 2, 5, 64] {
            var window = SortedWindow(capacity: capacity)
            var recent: [Double] = []
            for _ in 0..<2_000 {
                let x = Double(random.next() % 20) - 5
                window.add(x)
                recent.append(x)
                if recent.count > capacity { recent.removeFirst() }
                let sorted = recent.sorted()
                XCTAssertEqual(window.sorted, sorted)
                let n = sorted.count
                let median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
                XCTAssertEqual(window.median, median)
                let deviations = sorted.map { abs($0 - median) }.sorted()
                XCTAssertEqual(window.medianAbsoluteDeviation(from: median), deviations[n / 2], "capacity \(capacity): \(sorted)")
            }
        }
    }

    func testStateRoundTripKeepsArrivalOrder() throws {
        var window = SortedWindow(capacity: 4)
        for x in [5.0, 1, 4, 2, 3, 9] { window.add(x) }
        var w = StateWriter()
        window.encode(to: &w)
        var r = StateReader(w.bytes)
        var restored = try SortedWindow.decode(from: &r)
        XCTAssertEqual(restored.sorted, [2, 3, 4, 9])
        window.add(0); restored.add(0)   // evicts 4 in both
        XCTAssertEqual(restored.sorted, window.sorted)
        XCTAssertEqual(restored.sorted, [0, 2, 3, 9])
    }
}
