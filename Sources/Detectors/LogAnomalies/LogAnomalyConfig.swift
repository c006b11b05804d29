import Stream

/// Knobs of the log-anomaly operator (`DataStream.logAnomalies`).
public struct LogAnomalyConfig: Sendable, Equatable {
    /// How templates are mined (one miner's templates per service).
    public var miner: TemplateMinerConfig
    /// Rates and error counts are per tumbling event-time window of this length.
    public var window: TimeSpan
    /// A service's first windows only teach the baseline: no new-template, rate or error
    /// events until this many windows have closed (a template's rate, until it has this many).
    public var warmupWindows: Int
    /// Weight of the newest window in the moving baselines (exponentially weighted).
    public var baselineWeight: Double
    /// A rate or error count is anomalous this many standard deviations from its baseline…
    public var threshold: Double
    /// …and at least this many messages away from it (a template going 0 → 2 is noise).
    public var minimumChange: Double

    public init(miner: TemplateMinerConfig = TemplateMinerConfig(), window: TimeSpan = .seconds(60), warmupWindows: Int = 5,
                baselineWeight: Double = 0.1, threshold: Double = 4, minimumChange: Double = 5) {
        self.miner = miner
        self.window = window
        self.warmupWindows = warmupWindows
        self.baselineWeight = baselineWeight
        self.threshold = threshold
        self.minimumChange = minimumChange
    }

    /// Why this configuration cannot be used, or nil.
    public var problem: String? {
        if let p = miner.problem { return p }
        if window.milliseconds <= 0 { return "the window must be longer than 0 ms" }
        if warmupWindows < 1 { return "warmupWindows must be at least 1, not \(warmupWindows)" }
        if !(baselineWeight > 0 && baselineWeight <= 1) { return "baselineWeight must be in (0, 1], not \(baselineWeight)" }
        if !(threshold > 0) { return "threshold must be positive, not \(threshold)" }
        if minimumChange < 0 { return "minimumChange must not be negative" }
        return nil
    }
}
