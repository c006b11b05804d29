import Stream

/// Additive Holt–Winters (level, trend, season) with the season length found from the
/// first `warmup` points (`PeriodDetection`; none found: level and trend only). Each point is
/// judged by its residual against the one-step forecast, in units of an exponentially
/// weighted residual deviation. Updates use the residual clipped to `clip` deviations, so an
/// anomaly does not bend the forecast towards itself. O(1) per point after the warm-up.
public struct SeasonalDetector: AnomalyDetector {
    public static let name = "seasonal"

    public struct Config: Sendable, Equatable {
        /// Points buffered to find the period and start the components.
        public var warmup: Int = 600
        public var levelWeight: Double = 0.1
        public var trendWeight: Double = 0.005
        public var seasonWeight: Double = 0.1
        /// Weight of the newest squared residual in the residual variance.
        public var residualWeight: Double = 0.02
        /// Standard deviations of residual that make an anomaly.
        public var threshold: Double = 4
        /// Residuals beyond this many deviations are clipped before the components learn.
        public var clip: Double = 3
        public init() {}
    }

    public let config: Config
    var buffer: [Double] = []
    var period = 0
    var level = 0.0
    var trend = 0.0
    var season: [Double] = []
    var phase = 0
    var residualVariance = 0.0
    var started = false

    public init(config: Config = Config()) { self.config = config }

    public mutating func update(time: Int64, value x: Double) -> DetectorVerdict {
        guard started else {
            buffer.append(x)
            if buffer.count >= config.warmup { start() }
            return .learning(config.warmup - buffer.count)
        }
        let seasonal = period > 0 ? season[phase] : 0
        let forecast = level + trend + seasonal
        let sd = EWMADetector.spread(variance: residualVariance, mean: forecast)
        let residual = x - forecast
        let z = residual / sd
        let band = config.threshold * sd
        let verdict = DetectorVerdict(score: GaussianTail.score(sigmas: z), isAnomaly: abs(z) >= config.threshold,
                                      expected: (forecast - band)...(forecast + band), reason: .seasonalResidual(sigmas: z, period: period))
        learn(x, residual: min(max(residual, -config.clip * sd), config.clip * sd))
        return verdict
    }

    private mutating func learn(_ x: Double, residual: Double) {
        let clipped = level + trend + (period > 0 ? season[phase] : 0) + residual
        residualVariance += config.residualWeight * (residual * residual - residualVariance)
        let previousLevel = level
        let seasonal = period > 0 ? season[phase] : 0
        level += trend + config.levelWeight * (clipped - seasonal - previousLevel - trend)
        trend += config.trendWeight * (level - previousLevel - trend)
        if period > 0 {
            season[phase] += config.seasonWeight * (clipped - level - season[phase])
            phase = phase + 1 == period ? 0 : phase + 1
        }
    }

    /// Finds the period, sets the season to the average cycle of the buffer, and replays the
    /// buffer through the updates so the residual variance is learnt too.
    private mutating func start() {
        period = PeriodDetection.period(of: buffer) ?? 0
        let mean = buffer.reduce(0, +) / Double(buffer.count)
        level = mean
        trend = 0
        if period > 0 {
            season = [Double](repeating: 0, count: period)
            var counts = [Double](repeating: 0, count: period)
            for (i, x) in buffer.enumerated() { season[i % period] += x - mean; counts[i % period] += 1 }
            for i in 0..<period { season[i] /= max(counts[i], 1) }
        }
        started = true
        phase = 0
        let replay = buffer
        buffer = []
        var variance = 0.0
        for x in replay { variance += (x - mean) * (x - mean) }
        residualVariance = variance / Double(replay.count)
        for x in replay {
            let forecast = level + trend + (period > 0 ? season[phase] : 0)
            let sd = EWMADetector.spread(variance: residualVariance, mean: forecast)
            let residual = x - forecast
            learn(x, residual: min(max(residual, -config.clip * sd), config.clip * sd))
        }
    }
}

extension SeasonalDetector.Config: StateCodable {
    public func encode(to w: inout StateWriter) {
        warmup.encode(to: &w)
        for v in [levelWeight, trendWeight, seasonWeight, residualWeight, threshold, clip] { v.encode(to: &w) }
    }
    public static func decode(from r: inout StateReader) throws -> Self {
        var c = Self()
        c.warmup = try .decode(from: &r)
        c.levelWeight = try .decode(from: &r); c.trendWeight = try .decode(from: &r); c.seasonWeight = try .decode(from: &r)
        c.residualWeight = try .decode(from: &r); c.threshold = try .decode(from: &r); c.clip = try .decode(from: &r)
        return c
    }
}

extension SeasonalDetector {
    public func encode(to w: inout StateWriter) {
        config.encode(to: &w); buffer.encode(to: &w); period.encode(to: &w); level.encode(to: &w); trend.encode(to: &w)
        season.encode(to: &w); phase.encode(to: &w); residualVariance.encode(to: &w); started.encode(to: &w)
    }
    public static func decode(from r: inout StateReader) throws -> Self {
        var d = Self(config: try .decode(from: &r))
        d.buffer = try .decode(from: &r); d.period = try .decode(from: &r); d.level = try .decode(from: &r)
        d.trend = try .decode(from: &r); d.season = try .decode(from: &r); d.phase = try .decode(from: &r)
        d.residualVariance = try .decode(from: &r); d.started = try .decode(from: &r)
        guard d.season.count == d.period, d.period == 0 || d.phase < d.period else {
            throw StateDecodingError("seasonal detector: a season of \(d.season.count) values for period \(d.period)")
        }
        return d
    }
}
