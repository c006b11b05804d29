import Detectors
import VigilTestSupport
import XCTest

/// The hotspot-shift detector on hand-made windows: steady shares with sampling noise raise
/// nothing; a function that takes over the CPU, and the ones it displaces, are flagged; a new
/// function is flagged; a small move on few samples is not.
final class HotspotShiftDetectorTests: XCTestCase {
    func testSteadyProfilesAreQuietAndAShiftIsFlaggedBothWays() {
        var d = HotspotShiftDetector()
        var rng = SeededRandom(seed: 7)
        for w in 0..<20 {
            // parse 50 %, hash 30 %, gc 20 %, ± a few samples of noise.
            let jitter = Int(rng.next() % 21) - 10
            let shifts = d.observe(samples: ["parse": 500 + jitter, "hash": 300 - jitter, "gc": 200], total: 1000, windowEnd: Int64(w))
            XCTAssertEqual(shifts, [], "window \(w)")
        }
        let shifts = d.observe(samples: ["parse": 200, "hash": 700, "gc": 100], total: 1000, windowEnd: 20)
        XCTAssertEqual(shifts.first?.function, "hash", "\(shifts)")
        XCTAssertEqual(Set(shifts.map(\.function)), ["hash", "parse", "gc"], "\(shifts)")
        let hash = shifts.first { $0.function == "hash" }!
        XCTAssertEqual(hash.share, 0.7, accuracy: 1e-9)
        XCTAssertEqual(hash.baselineShare, 0.3, accuracy: 0.02)
        XCTAssertTrue(hash.description.hasPrefix("hash: 70.0% of samples (baseline 29.") && hash.description.contains(", up, z "), hash.description)
    }

    func testANewFunctionIsFlaggedAndFewSamplesAreNotEnough() {
        var d = HotspotShiftDetector()
        for w in 0..<5 { _ = d.observe(samples: ["serve": 900, "log": 100], total: 1000, windowEnd: Int64(w)) }
        let shifts = d.observe(samples: ["serve": 700, "log": 100, "regex_compile": 200], total: 1000, windowEnd: 5)
        XCTAssertTrue(shifts.contains { $0.function == "regex_compile" && $0.baselineShare == 0 }, "\(shifts)")

        var sparse = HotspotShiftDetector()
        for w in 0..<5 { _ = sparse.observe(samples: ["a": 5, "b": 5], total: 10, windowEnd: Int64(w)) }
        XCTAssertEqual(sparse.observe(samples: ["a": 7, "b": 3], total: 10, windowEnd: 5), [], "20 points on 10 samples is noise")
    }

    func testItLearnsBeforeItJudges() {
        var d = HotspotShiftDetector()
        XCTAssertEqual(d.observe(samples: ["a": 1000], total: 1000, windowEnd: 0), [])
        XCTAssertEqual(d.observe(samples: ["b": 1000], total: 1000, windowEnd: 1), [], "still warming up")
    }
}

