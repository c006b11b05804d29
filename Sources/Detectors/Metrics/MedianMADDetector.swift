import Stream

/// Each point against the median of a sliding window, in units of the window's median
/// absolute deviation (scaled by 1.4826, so that it estimates σ for Gaussian data). Outliers
/// in the window barely move either, so a burst does not hide the next one.
public struct MedianMADDetector: AnomalyDetector {
    public static let name = "mad"

    public struct Config: Sendable, Equatable {
        /// Points in the sliding window.
        public var window: Int = 500
        /// Robust standard deviations that make an anomaly.
        public var threshold: Double = 5
        /// Points in the window before the first judgement.
        public var warmup: Int = 50
        public init() {}
    }

    public let config: Config
    var window: SortedWindow

    public init(config: Config = Config()) {
        self.config = config
        window = SortedWindow(capacity: max(config.window, 1))
    }

    public mutating func update(time: Int64, value x: Double) -> DetectorVerdict {
        defer { window.add(x) }
        guard window.count >= config.warmup else { return .learning(config.warmup - window.count) }
        let median = window.median
        // A window that is mostly one value has no MAD; fall back to the spread between its
        // 5th and 95th percentiles, then to a sliver of the median.
        var sigma = 1.4826 * window.medianAbsoluteDeviation(from: median)
        if sigma == 0 { sigma = (window.quantile(0.95) - window.quantile(0.05)) / 3.29 }
        sigma = max(sigma, 1e-3 * abs(median), 1e-9)
        let z = (x - median) / sigma
        let band = config.threshold * sigma
        return DetectorVerdict(score: GaussianTail.score(sigmas: z), isAnomaly: abs(z) >= config.threshold,
                               expected: (median - band)...(median + band), reason: .robustDeviation(mads: z))
    }
}

extension MedianMADDetector.Config: StateCodable {
    public func encode(to w: inout StateWriter) {
        window.encode(to: &w); threshold.encode(to: &w); warmup.encode(to: &w)
    }
    public static func decode(from r: inout StateReader) throws -> Self {
        var c = Self()
        c.window = try .decode(from: &r); c.threshold = try .decode(from: &r); c.warmup = try .decode(from: &r)
        return c
    }
}

extension MedianMADDetector {
    public func encode(to w: inout StateWriter) {
        config.encode(to: &w); window.encode(to: &w)
    }
    public static func decode(from r: inout StateReader) throws -> Self {
        var d = Self(config: try .decode(from: &r))
        d.window = try .decode(from: &r)
        return d
    }
}
