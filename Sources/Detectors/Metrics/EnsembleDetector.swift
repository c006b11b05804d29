import Stream

/// Vigil's combined detector. Four views of "unusual" — a moving z-score, a robust median/MAD,
/// a seasonal forecast, and value-pattern novelty — are each calibrated against their own
/// history on this series (`LikelihoodCalibrated`) and their surprises averaged without the
/// loudest one: one member's quirk cannot raise an alarm, agreement can. A point at a level the novelty member has
/// seen before counts `familiarWeight` of its surprise: a nightly spike to the same height is
/// news the first time. A fifth member, `ShapeNoveltyDetector`, speaks in sparse events (a
/// recent shape unlike any learnt); its score, times `shapeWeight`, competes with the average.
/// After an alarm the detector rests for `restPeriod` points (scores 0), because an incident is
/// one page, not one per point.
///
/// SPOT is not a member: on NAB it added 0.2 points for 12% of the time per point (see
/// benchmarks/RESULTS.md). It remains a detector of its own.
public struct EnsembleDetector: AnomalyDetector {
    public static let name = "ensemble"

    public struct Config: Sendable, Equatable {
        /// Combined surprise (decimal digits) that makes an anomaly: score 0.75.
        public var threshold: Double = 15
        /// Points of silence after an alarm.
        public var restPeriod: Int = 100
        /// The share of a familiar point's surprise that counts. Lower is quieter on recurring
        /// spikes but also on an incident that returns to a level seen in an earlier one (at 0.1
        /// NAB scored 64.8 before the shape member, at 0.25 63.3; 0.25 keeps a repeat incident 4×
        /// harder to miss, not 10×).
        public var familiarWeight: Double = 0.25
        /// A shape event's score times this competes with the averaged surprise's score.
        public var shapeWeight: Double = 2
        public var ewma = EWMADetector.Config()
        public var mad = MedianMADDetector.Config()
        public var seasonal = SeasonalDetector.Config()
        public var novelty = NoveltyDetector.Config()
        public var shape = ShapeNoveltyDetector.Config()
        /// How each averaged member's surprises are judged against that member's own history.
        public var calibration = LikelihoodCalibrated<EWMADetector>.Config()
        public init() {}

        /// The range the series is known to stay in, for the members that cut values into
        /// levels (novelty, shape); nil: they take it from their warm-up.
        public var valueRange: ClosedRange<Double>? {
            get { novelty.valueRange }
            set { novelty.valueRange = newValue; shape.valueRange = newValue }
        }
    }

    public let config: Config
    var ewma: LikelihoodCalibrated<EWMADetector>
    var mad: LikelihoodCalibrated<MedianMADDetector>
    var seasonal: LikelihoodCalibrated<SeasonalDetector>
    var novelty: LikelihoodCalibrated<NoveltyDetector>
    var shape: ShapeNoveltyDetector
    /// Points left in the rest period.
    var resting = 0

    public init(config: Config = Config()) {
        self.config = config
        let c = config.calibration
        ewma = LikelihoodCalibrated(EWMADetector(config: config.ewma), config: .init(c))
        mad = LikelihoodCalibrated(MedianMADDetector(config: config.mad), config: .init(c))
        seasonal = LikelihoodCalibrated(SeasonalDetector(config: config.seasonal), config: .init(c))
        novelty = LikelihoodCalibrated(NoveltyDetector(config: config.novelty), config: .init(c))
        shape = ShapeNoveltyDetector(config: config.shape)
    }

    public mutating func update(time: Int64, value: Double) -> DetectorVerdict {
        var best: (name: String, verdict: DetectorVerdict)?
        var total = 0.0, loudest = 0.0, judged = 0.0
        // Unrolled (no array of members per point): the strongest member explains, all add up.
        @inline(__always) func consider(_ name: String, _ v: DetectorVerdict) {
            if case .learning = v.reason { return }
            let s = Surprise.of(score: v.score)
            total += s
            loudest = max(loudest, s)
            judged += 1
            if best == nil || v.score > best!.verdict.score { best = (name, v) }
        }
        let first = ewma.update(time: time, value: value)
        consider(EWMADetector.name, first)
        consider(MedianMADDetector.name, mad.update(time: time, value: value))
        consider(SeasonalDetector.name, seasonal.update(time: time, value: value))
        let patterns = novelty.update(time: time, value: value)
        consider(NoveltyDetector.name, patterns)
        let shapeVerdict = shape.update(time: time, value: value)
        guard let (bestName, bestVerdict) = best else { return first }
        // The mean without the loudest member (once all four judge): one member alone
        // cannot raise an alarm; it takes agreement. (NAB: 65.3 with the plain mean, 67.0.)
        var surprise = judged >= 4 ? (total - loudest) / (judged - 1) : total / judged
        if case .novelty(_, newLevel: false) = patterns.reason { surprise *= config.familiarWeight }
        var verdict = bestVerdict
        var driver = bestName
        // A novel shape competes with the averaged evidence, on the score scale.
        let shapeScore = min(1, config.shapeWeight * shapeVerdict.score)
        if shapeScore > GaussianTail.score(surprise: surprise) {
            surprise = Surprise.of(score: shapeScore)
            verdict.reason = shapeVerdict.reason
            driver = ShapeNoveltyDetector.name
        }
        if resting > 0 {
            resting -= 1
            verdict.score = 0
            verdict.isAnomaly = false
            return verdict
        }
        verdict.score = GaussianTail.score(surprise: surprise)
        verdict.isAnomaly = surprise >= config.threshold
        if verdict.isAnomaly {
            resting = config.restPeriod
            // Named only here: `.member` is boxed (an allocation), which every point cannot afford.
            verdict.reason = .member(name: driver, reason: verdict.reason)
        }
        return verdict
    }
}

extension EnsembleDetector.Config: StateCodable {
    public func encode(to w: inout StateWriter) {
        threshold.encode(to: &w); restPeriod.encode(to: &w); familiarWeight.encode(to: &w); shapeWeight.encode(to: &w)
        ewma.encode(to: &w); mad.encode(to: &w); seasonal.encode(to: &w); novelty.encode(to: &w); shape.encode(to: &w)
        calibration.encode(to: &w)
    }
    public static func decode(from r: inout StateReader) throws -> Self {
        var c = Self()
        c.threshold = try .decode(from: &r); c.restPeriod = try .decode(from: &r)
        c.familiarWeight = try .decode(from: &r); c.shapeWeight = try .decode(from: &r)
        c.ewma = try .decode(from: &r); c.mad = try .decode(from: &r); c.seasonal = try .decode(from: &r)
        c.novelty = try .decode(from: &r); c.shape = try .decode(from: &r); c.calibration = try .decode(from: &r)
        return c
    }
}

extension EnsembleDetector {
    public func encode(to w: inout StateWriter) {
        config.encode(to: &w); ewma.encode(to: &w); mad.encode(to: &w); seasonal.encode(to: &w)
        novelty.encode(to: &w); shape.encode(to: &w); resting.encode(to: &w)
    }
    public static func decode(from r: inout StateReader) throws -> Self {
        var d = Self(config: try .decode(from: &r))
        d.ewma = try .decode(from: &r); d.mad = try .decode(from: &r); d.seasonal = try .decode(from: &r)
        d.novelty = try .decode(from: &r); d.shape = try .decode(from: &r); d.resting = try .decode(from: &r)
        return d
    }
}
