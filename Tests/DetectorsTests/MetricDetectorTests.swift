import Stream
import VigilTestSupport
import XCTest
@testable import Detectors

/// Each metric detector on synthetic series with known anomalies: it must flag them, stay
/// quiet on normal data, and continue identically after a checkpoint round trip.
final class MetricDetectorTests: XCTestCase {
    /// A noisy cycle of 48 points (a "day" of half-hours) around 100 (amplitude 10, or none
    /// when `cycle` is false), σ = 1 noise, with a spike of +25 at `spikeAt`.
    func series(count: Int = 3000, spikeAt: Int? = 2500, seed: UInt64 = 1, cycle: Bool = true) -> [Double] {
        var random = SeededRandom(seed: seed)
        return (0..<count).map { i in
            // Approximately Gaussian noise: the sum of four uniforms, scaled to σ = 1.
            var u = 0.0
            for _ in 0..<4 { u += Double(random.next() % 1_000_000) / 1_000_000 }
            let noise = (u - 2) * 1.732
            let spike = i == spikeAt ? 25.0 : 0
            return 100 + (cycle ? 10 * sin(2 * Double.pi * Double(i) / 48) : 0) + noise + spike
        }
    }

    func flags<D: AnomalyDetector>(_ detector: D, _ values: [Double]) -> [Int] {
        var d = detector
        return values.enumerated().compactMap { i, v in d.update(time: Int64(i) * 1_800_000, value: v).isAnomaly ? i : nil }
    }

    func assertCatchesTheSpike<D: AnomalyDetector>(_ detector: D, maxFalseAlarms: Int, cycle: Bool = true,
                                                   file: StaticString = #filePath, line: UInt = #line) {
        let flagged = flags(detector, series(cycle: cycle))
        XCTAssertTrue(flagged.contains(2500), "\(D.name) missed the spike; flagged \(flagged.prefix(20))", file: file, line: line)
        XCTAssertLessThanOrEqual(flagged.count - 1, maxFalseAlarms, "\(D.name) flagged \(flagged.prefix(20))", file: file, line: line)
        let quiet = flags(detector, series(spikeAt: nil, seed: 2, cycle: cycle))
        XCTAssertLessThanOrEqual(quiet.count, maxFalseAlarms, "\(D.name) on normal data flagged \(quiet.prefix(20))", file: file, line: line)
    }

    func testEachDetectorCatchesASpikeAndStaysQuietOtherwise() {
        // The detectors that model the cycle, on the cycle.
        assertCatchesTheSpike(SeasonalDetector(), maxFalseAlarms: 3)
        assertCatchesTheSpike(SPOTDetector(), maxFalseAlarms: 5)
        assertCatchesTheSpike(EnsembleDetector(), maxFalseAlarms: 1)
        // A spike lands in a band the warm-up never reached: a level never visited.
        assertCatchesTheSpike(NoveltyDetector(), maxFalseAlarms: 3)
        // The level detectors know no season: on a level series (on the cycle its ±10 swing
        // would be their spread).
        assertCatchesTheSpike(EWMADetector(), maxFalseAlarms: 3, cycle: false)
        assertCatchesTheSpike(MedianMADDetector(), maxFalseAlarms: 3, cycle: false)
    }

    /// The cycle goes flat for a day (NAB's art_daily_flatmiddle): no value is out of range,
    /// but the shape is new. The shape member reports it within the day, and is otherwise quiet.
    func testAFlatStretchInACycleIsANovelShape() {
        var values = series(count: 4000, spikeAt: nil)
        for i in 2400..<2448 { values[i] = 100 }
        let flagged = flags(ShapeNoveltyDetector(), values)
        XCTAssertTrue(flagged.contains { (2400..<2448).contains($0) }, "flagged \(flagged)")
        XCTAssertLessThanOrEqual(flagged.filter { !(2400..<2500).contains($0) }.count, 2, "flagged \(flagged)")
        XCTAssertTrue(flags(EnsembleDetector(), values).contains { (2400..<2448).contains($0) })
    }

    func testTheShapeStepCanFollowTheSamplingInterval() throws {
        var config = ShapeNoveltyDetector.Config()
        config.stepDuration = 1_500_000   // 25 minutes
        for (interval, step) in [(Int64(300_000), 5), (3_600_000, 1), (600_000, 3)] {
            var d = ShapeNoveltyDetector(config: config)
            for i in 0..<20 { _ = d.update(time: Int64(i) * interval, value: Double(i % 3)) }
            XCTAssertEqual(d.step, step, "\(interval) ms apart")
        }
        try assertStateRoundTrip(ShapeNoveltyDetector(config: config), cut: 5)   // while measuring the interval
        try assertStateRoundTrip(ShapeNoveltyDetector(config: config), cut: 1700)
    }

    func testHaarOfAStepIsItsCoarseAndFineCoefficients() {
        var x: [Double] = [0, 0, 0, 0, 1, 1, 1, 1]
        var out = [Double](repeating: 0, count: 8)
        x.withUnsafeMutableBufferPointer { xs in out.withUnsafeMutableBufferPointer { ShapeNoveltyDetector.haar(xs, into: $0) } }
        // Orthonormal: the average 4/√8 first, the one step in the coarsest detail, no finer detail.
        XCTAssertEqual(out[0], 4 / 8.0.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(out[1], 4 / 8.0.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(Array(out[2...]), [0, 0, 0, 0, 0, 0])
    }

    func testSeasonalDetectionFindsThePeriod() {
        XCTAssertEqual(PeriodDetection.period(of: Array(series(count: 600, spikeAt: nil))), 48)
        var random = SeededRandom(seed: 3)
        let noise = (0..<600).map { _ in Double(random.next() % 1000) }
        XCTAssertNil(PeriodDetection.period(of: noise), "white noise has no season")
    }

    func testALevelShiftIsCaughtByTheEnsembleOnce() {
        var values = series(spikeAt: nil)
        for i in 2000..<values.count { values[i] += 15 }
        let flagged = flags(EnsembleDetector(), values)
        XCTAssertTrue(flagged.contains { (2000..<2010).contains($0) }, "flagged \(flagged)")
        XCTAssertLessThanOrEqual(flagged.count, 3, "the rest period keeps one shift to few alarms: \(flagged)")
    }

    /// A spike of the same height every 96 points (a nightly job) is news the first times, not
    /// the twentieth: the novelty member knows its band and pattern by then.
    func testARecurringSpikeStopsAlarming() {
        var values = series(count: 4000, spikeAt: nil, cycle: false)
        let spikes = Array(stride(from: 1000, to: 4000, by: 96))
        for i in spikes { values[i] += 20 }
        let flagged = Set(flags(EnsembleDetector(), values))
        let early = spikes.prefix(5).filter(flagged.contains)
        let late = spikes.suffix(15).filter(flagged.contains)
        XCTAssertFalse(early.isEmpty, "the first spikes are anomalies")
        XCTAssertLessThanOrEqual(late.count, 2, "late spikes flagged: \(late)")
    }

    /// Splits a run at `cut`, round-trips the detector's state through a checkpoint encoding,
    /// and requires the rest of the verdicts to be identical to an uninterrupted run's.
    func assertStateRoundTrip<D: AnomalyDetector & Equatable>(_ detector: D, cut: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        try assertStateRoundTrip(detector, cut: cut, same: { $0 == $1 }, file: file, line: line)
    }

    func assertStateRoundTrip<D: AnomalyDetector>(_ detector: D, cut: Int, same: ((D, D) -> Bool)? = nil,
                                                  file: StaticString = #filePath, line: UInt = #line) throws {
        let values = series()
        var uninterrupted = detector
        let expected = values.enumerated().map { uninterrupted.update(time: Int64($0) * 300_000, value: $1) }
        var first = detector
        for (i, v) in values[..<cut].enumerated() { _ = first.update(time: Int64(i) * 300_000, value: v) }
        var w = StateWriter()
        first.encode(to: &w)
        var r = StateReader(w.bytes)
        var restored = try D.decode(from: &r)
        if let same { XCTAssertTrue(same(first, restored), "\(D.name): state differs after decoding", file: file, line: line) }
        let rest = values[cut...].enumerated().map { restored.update(time: Int64(cut + $0) * 300_000, value: $1) }
        if let i = rest.indices.first(where: { rest[$0] != expected[cut + $0] }) {
            XCTFail("\(D.name) diverged after restore at \(cut), first at point \(cut + i): \(rest[i]) vs \(expected[cut + i])",
                    file: file, line: line)
        }
    }

    func testEveryDetectorContinuesIdenticallyAfterACheckpoint() throws {
        for cut in [5, 10, 403, 1700, 2502] {   // measuring the interval, learning, mid-warm-up (and mid-block), running
            try assertStateRoundTrip(EWMADetector(), cut: cut)
            try assertStateRoundTrip(MedianMADDetector(), cut: cut)
            try assertStateRoundTrip(SeasonalDetector(), cut: cut)
            try assertStateRoundTrip(SPOTDetector(), cut: cut)
            try assertStateRoundTrip(NoveltyDetector(), cut: cut)
            try assertStateRoundTrip(ShapeNoveltyDetector(), cut: cut)
            try assertStateRoundTrip(EnsembleDetector(), cut: cut)
        }
    }

    /// A declared value range (a percentage: 0...100) replaces the warm-up's in the detectors
    /// that cut values into levels, survives a checkpoint, and a range that is not one is
    /// reported as corrupt state instead of trapping.
    func testADeclaredValueRangeSetsTheLevelsAndSurvivesACheckpoint() throws {
        var config = EnsembleDetector.Config()
        config.valueRange = 0...100
        XCTAssertEqual(config.shape.valueRange, 0...100)
        XCTAssertEqual(config.novelty.valueRange, 0...100)
        var shape = ShapeNoveltyDetector(config: config.shape)
        var novelty = NoveltyDetector(config: config.novelty)
        var last: (shape: DetectorVerdict?, novelty: DetectorVerdict?) = (nil, nil)
        for (i, v) in series().enumerated() {
            last = (shape.update(time: Int64(i) * 300_000, value: v), novelty.update(time: Int64(i) * 300_000, value: v))
        }
        XCTAssertEqual(last.shape?.expected, 0...100)
        XCTAssertEqual(last.novelty?.expected, 0...100)
        for cut in [10, 403, 2502] {
            try assertStateRoundTrip(EnsembleDetector(config: config), cut: cut)
            try assertStateRoundTrip(ShapeNoveltyDetector(config: config.shape), cut: cut)
        }
        var w = StateWriter()
        Double?.some(5).encode(to: &w)
        Double?.some(1).encode(to: &w)
        var r = StateReader(w.bytes)
        XCTAssertThrowsError(try Optional<ClosedRange<Double>>.decodeRange(from: &r)) { error in
            XCTAssertTrue("\(error)".contains("5.0...1.0 is empty"), "\(error)")
        }
    }

    /// The NAB harness's range hint reaches the level-cutting detectors (and only them): a
    /// series whose warm-up saw a tenth of its range scores differently once the file's range
    /// is told in advance.
    func testTheNABRangeHintReachesTheDetectorsThatCutLevels() {
        var values = (0..<4000).map { i in (i < 1500 ? 10 : 100) * (1 + sin(Double(i) / 20)) }
        for i in stride(from: 2000, to: 4000, by: 250) { values[i] = 260 }
        let nab = NABSeries(name: "synthetic/widening.csv", timestampTexts: values.map { _ in "" },
                            times: values.indices.map { Int64($0) * 300 }, values: values, windows: [])
        XCTAssertEqual(nab.valueRange, values.min()!...values.max()!)
        for kind in MetricDetectorKind.allCases {
            let differs = kind.nabScores(of: nab) != kind.nabScores(of: nab, rangeHint: true)
            XCTAssertEqual(differs, kind.usesValueRange, kind.rawValue)
        }
    }

    func testScoresAreInTheUnitIntervalAndOrderedByDistance() {
        XCTAssertEqual(GaussianTail.score(sigmas: 0), 0, accuracy: 1e-12)
        var previous = 0.0
        for z in stride(from: 0.5, through: 200, by: 0.5) {
            let s = GaussianTail.score(sigmas: z)
            XCTAssertGreaterThan(s, previous, "monotone at \(z)σ, including where erfc underflows")
            XCTAssertLessThan(s, 1)
            previous = s
        }
        XCTAssertEqual(Surprise.of(score: GaussianTail.score(sigmas: 4)), GaussianTail.surprise(sigmas: 4), accuracy: 1e-9)
    }
}
