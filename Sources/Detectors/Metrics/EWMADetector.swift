import Stream

/// The z-score of each point against an exponentially weighted moving mean and variance.
/// Cheap and adaptive; blind to seasonality and fooled by heavy tails.
public struct EWMADetector: AnomalyDetector {
    public static let name = "ewma"

    public struct Config: Sendable, Equatable {
        /// The weight of the newest point in the mean and variance (≈ 2 / (span + 1)).
        public var alpha: Double = 0.01
        /// Standard deviations that make an anomaly.
        public var threshold: Double = 4
        /// Points learnt before the first judgement.
        public var warmup: Int = 50
        public init() {}
    }

    public let config: Config
    var mean = 0.0
    var variance = 0.0
    var count = 0

    public init(config: Config = Config()) { self.config = config }

    public mutating func update(time: Int64, value x: Double) -> DetectorVerdict {
        defer { learn(x) }
        guard count >= config.warmup else { return .learning(config.warmup - count) }
        let sd = Self.spread(variance: variance, mean: mean)
        let z = (x - mean) / sd
        let band = config.threshold * sd
        return DetectorVerdict(score: GaussianTail.score(sigmas: z), isAnomaly: abs(z) >= config.threshold,
                               expected: (mean - band)...(mean + band), reason: .deviation(sigmas: z))
    }

    /// The standard deviation, floored so that a series that never moved does not make its
    /// first wiggle infinitely surprising.
    @inline(__always)
    static func spread(variance: Double, mean: Double) -> Double {
        max(variance.squareRoot(), 1e-3 * abs(mean), 1e-9)
    }

    @inline(__always)
    mutating func learn(_ x: Double) {
        count += 1
        if count == 1 { mean = x; return }
        let a = count < config.warmup ? 1 / Double(count) : config.alpha  // a plain mean until warm
        let delta = x - mean
        mean += a * delta
        variance = (1 - a) * (variance + a * delta * delta)
    }
}

extension EWMADetector.Config: StateCodable {
    public func encode(to w: inout StateWriter) {
        alpha.encode(to: &w); threshold.encode(to: &w); warmup.encode(to: &w)
    }
    public static func decode(from r: inout StateReader) throws -> Self {
        var c = Self()
        c.alpha = try .decode(from: &r); c.threshold = try .decode(from: &r); c.warmup = try .decode(from: &r)
        return c
    }
}

extension EWMADetector {
    public func encode(to w: inout StateWriter) {
        config.encode(to: &w); mean.encode(to: &w); variance.encode(to: &w); count.encode(to: &w)
    }
    public static func decode(from r: inout StateReader) throws -> Self {
        var d = Self(config: try .decode(from: &r))
        d.mean = try .decode(from: &r); d.variance = try .decode(from: &r); d.count = try .decode(from: &r)
        return d
    }
}
