import XCTest
@testable import Detectors

/// The scorer on hand-made series whose scores were worked out from NAB's definitions (the
/// numbers in comments are computed by hand from σ(y) = 2/(1+e^{5y}) − 1, not by the code).
final class NABScorerTests: XCTestCase {
    /// 20 rows, a window on rows 10…14; rows 0…2 are probationary (⌊0.15·20⌋ = 3).
    func series(window: ClosedRange<Int>? = 10...14, rows: Int = 20) -> NABSeries {
        NABSeries(name: "test/one.csv", timestampTexts: (0..<rows).map { "t\($0)" }, times: (0..<rows).map(Int64.init),
                  values: [Double](repeating: 0, count: rows), windows: window.map { [$0] } ?? [])
    }

    func scores(_ hits: [Int: Double], rows: Int = 20) -> [Double] {
        (0..<rows).map { hits[$0] ?? 0 }
    }

    func testProbationIsFifteenPercentCappedAt750Rows() {
        XCTAssertEqual(NABScorer.probationaryRows(rowCount: 20), 3)
        XCTAssertEqual(NABScorer.probationaryRows(rowCount: 4000), 600)
        XCTAssertEqual(NABScorer.probationaryRows(rowCount: 22_000), 750)
    }

    func testScaledSigmoid() {
        XCTAssertEqual(NABScorer.scaledSigmoid(0), 0, accuracy: 1e-12)
        XCTAssertEqual(NABScorer.scaledSigmoid(-1), 0.9866142981514305, accuracy: 1e-12)
        XCTAssertEqual(NABScorer.scaledSigmoid(3.5), -1)
    }

    /// An early FP (−0.11), a detection 3 rows into the window (σ(−3/5)/σ(−1) = 0.917429),
    /// and an FP 2 rows after it (0.11·σ(2/4) = −0.093311): the best threshold keeps the
    /// first two and drops the third.
    func testTheBestThresholdAndEachProfile() {
        let results = NABScorer.score(series: [series()], anomalyScores: [scores([5: 0.9, 12: 0.8, 16: 0.7])])
        let standard = results[0], lowFP = results[1], lowFN = results[2]
        XCTAssertEqual(standard.threshold, 0.8)
        XCTAssertEqual(standard.raw, -0.11 + 0.9174286804284079, accuracy: 1e-9)
        XCTAssertEqual(standard.null, -1)
        XCTAssertEqual(standard.perfect, 1)
        XCTAssertEqual(standard.normalized, 90.3714340214204, accuracy: 1e-6)
        XCTAssertEqual(standard.detectedWindows, 1)
        XCTAssertEqual(standard.falsePositives, 1)
        XCTAssertEqual(lowFP.normalized, 84.87143402142038, accuracy: 1e-6)
        XCTAssertEqual(lowFN.normalized, 100 * (0.8074286804284079 + 2) / 3, accuracy: 1e-6)   // null −2, perfect +1
    }

    /// Only a window's earliest detection counts; later ones in it neither add nor cost.
    func testOnlyTheEarliestDetectionInAWindowCounts() {
        let once = NABScorer.score(series: [series()], anomalyScores: [scores([10: 0.9])])[0]
        let thrice = NABScorer.score(series: [series()], anomalyScores: [scores([10: 0.9, 11: 0.9, 14: 0.9])])[0]
        XCTAssertEqual(once.raw, 1, accuracy: 1e-12)    // the first row of the window is worth exactly tpWeight
        XCTAssertEqual(thrice.raw, 1, accuracy: 1e-12)
        XCTAssertEqual(once.normalized, 100, accuracy: 1e-9)
    }

    /// Detections in the probationary rows are ignored, whatever their score.
    func testProbationaryDetectionsAreIgnored() {
        let result = NABScorer.score(series: [series()], anomalyScores: [scores([0: 1, 2: 1, 10: 0.5])])[0]
        XCTAssertEqual(result.raw, 1, accuracy: 1e-12)
        XCTAssertEqual(result.falsePositives, 0)
    }

    /// Every threshold detects all rows scored at least that, so the lowest one detects
    /// everything. In 40 rows with a 3-row window at the end, rows 6…36 are 31 false positives
    /// (−3.41) against one window (+1): worse than the null detector, and so are the two
    /// high-scored false positives. The best is to fire nowhere: the null score, 0.
    func testWhenFalsePositivesOutweighTheBestIsNeverFiring() {
        let result = NABScorer.score(series: [series(window: 37...39, rows: 40)], anomalyScores: [scores([7: 0.9, 20: 0.8], rows: 40)])[0]
        XCTAssertEqual(result.raw, -1)
        XCTAssertEqual(result.normalized, 0)
        XCTAssertEqual(result.detectedWindows, 0)
        XCTAssertGreaterThan(result.threshold, 0.9)
    }

    /// Series without windows only cost; one threshold serves all series at once.
    func testOneThresholdAcrossSeries() {
        let quiet = series(window: nil)
        // Scoring the window at 0.6 needs threshold 0.6, which lets in the quiet series' 0.7
        // (−0.11, no window before it): still worth it (0.917 − 0.11 > 0).
        let results = NABScorer.score(series: [series(), quiet], anomalyScores: [scores([12: 0.6]), scores([8: 0.7])])
        XCTAssertEqual(results[0].threshold, 0.6)
        XCTAssertEqual(results[0].raw, 0.9174286804284079 - 0.11, accuracy: 1e-9)
    }

    /// A window wholly inside the probationary rows cannot be scored, but NAB's perfect score
    /// counts every labelled window: null −1 (one scored window), perfect +2.
    func testAProbationaryWindowCountsOnlyInThePerfectScore() {
        var s = series()
        s.windows = [0...1, 10...14]
        let result = NABScorer.score(series: [s], anomalyScores: [scores([10: 0.9])])[0]
        XCTAssertEqual(result.null, -1)
        XCTAssertEqual(result.perfect, 2)
        XCTAssertEqual(result.normalized, 100 * 2 / 3, accuracy: 1e-9)
    }
}
