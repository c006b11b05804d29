import Stream

/// Makes any detector's scores comparable across series by judging them against the series'
/// own history of scores (the idea of Numenta's "anomaly likelihood", Ahmad et al. 2017): a
/// series whose detector is often surprised (noisy, quantised, flat with blips) needs far more
/// to alarm than one that rarely is. The base detector's surprise, averaged over the last
/// `shortWindow` points, is compared as a z-score with an exponentially weighted mean and
/// deviation of all its past surprises (time constant `history` points: O(1) memory); the
/// score is that z-score's one-sided Gaussian tail, in the surprise scale every detector uses.
public struct LikelihoodCalibrated<Base: AnomalyDetector>: AnomalyDetector {
    public static var name: String { Base.name + "-likelihood" }

    public struct Config: Sendable, Equatable {
        /// Points over which the history's mean and deviation are weighted.
        public var history: Int = 8000
        /// Points whose surprise is averaged before judging (1: each point alone).
        public var shortWindow: Int = 1
        /// Surprises learnt before the first judgement.
        public var warmup: Int = 200
        /// The calibrated surprise (decimal digits) that makes an anomaly.
        public var threshold: Double = 5
        public init() {}
        /// The same settings for another base detector.
        public init<Other>(_ other: LikelihoodCalibrated<Other>.Config) {
            history = other.history; shortWindow = other.shortWindow; warmup = other.warmup; threshold = other.threshold
        }
    }

    public let config: Config
    public private(set) var base: Base
    var recent: MovingStatistics
    var historyMean = 0.0
    var historyVariance = 0.0
    var historyCount = 0

    public init(_ base: Base, config: Config = Config()) {
        self.config = config
        self.base = base
        recent = MovingStatistics(capacity: max(config.shortWindow, 1))
    }

    public mutating func update(time: Int64, value: Double) -> DetectorVerdict {
        var verdict = base.update(time: time, value: value)
        if case .learning = verdict.reason { return verdict }
        let raw = Surprise.of(score: verdict.score)
        recent.add(raw)
        defer { learn(raw) }
        guard historyCount >= config.warmup else {
            verdict.score = 0
            verdict.isAnomaly = false
            verdict.reason = .learning(remaining: config.warmup - historyCount)
            return verdict
        }
        let spread = max(historyVariance.squareRoot(), 0.05 * historyMean, 1e-3)
        let z = (recent.mean - historyMean) / spread
        // One-sided: only more surprise than usual is news (half the two-sided tail: +log₁₀ 2).
        let surprise = z > 0 ? max(0, GaussianTail.surprise(sigmas: z) - 0.3010299956639812) : 0
        verdict.score = GaussianTail.score(surprise: surprise)
        verdict.isAnomaly = surprise >= config.threshold
        return verdict
    }

    @inline(__always)
    private mutating func learn(_ raw: Double) {
        historyCount += 1
        let weight = max(1 / Double(historyCount), 1 / Double(max(config.history, 1)))  // a plain mean at first
        let delta = raw - historyMean
        historyMean += weight * delta
        historyVariance = (1 - weight) * (historyVariance + weight * delta * delta)
    }
}

extension LikelihoodCalibrated.Config: StateCodable {
    public func encode(to w: inout StateWriter) {
        history.encode(to: &w); shortWindow.encode(to: &w); warmup.encode(to: &w); threshold.encode(to: &w)
    }
    public static func decode(from r: inout StateReader) throws -> Self {
        var c = Self()
        c.history = try .decode(from: &r); c.shortWindow = try .decode(from: &r)
        c.warmup = try .decode(from: &r); c.threshold = try .decode(from: &r)
        return c
    }
}

extension LikelihoodCalibrated {
    public func encode(to w: inout StateWriter) {
        config.encode(to: &w); base.encode(to: &w); recent.encode(to: &w)
        historyMean.encode(to: &w); historyVariance.encode(to: &w); historyCount.encode(to: &w)
    }
    public static func decode(from r: inout StateReader) throws -> Self {
        let config = try Config.decode(from: &r)
        var d = Self(try Base.decode(from: &r), config: config)
        d.recent = try .decode(from: &r)
        d.historyMean = try .decode(from: &r); d.historyVariance = try .decode(from: &r); d.historyCount = try .decode(from: &r)
        return d
    }
}
