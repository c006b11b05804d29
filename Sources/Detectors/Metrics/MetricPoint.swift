/// One value of one series: the input of the keyed detector operator.
public struct MetricPoint: Sendable, Equatable, Codable {
    /// Which series (one detector state per key), e.g. "checkout /cart p99".
    public var series: String
    /// Milliseconds since 1970.
    public var time: Int64
    public var value: Double

    public init(series: String, time: Int64, value: Double) {
        self.series = series
        self.time = time
        self.value = value
    }
}

/// A point a detector judged anomalous.
public struct MetricAnomaly: Sendable, Equatable, Codable {
    public var series: String
    public var time: Int64
    public var value: Double
    public var score: Double
    public var expectedLow: Double
    public var expectedHigh: Double
    public var detector: String
    public var explanation: String
}

/// Every point a detector judged, anomalous or not, with its verdict: what a backtest plots
/// and scores (`detect(scoring: true)`, side output `ScoredPoint.all`).
public struct ScoredPoint: Sendable, Equatable, Codable {
    public var series: String
    public var time: Int64
    public var value: Double
    public var score: Double
    public var isAnomaly: Bool
    public var expectedLow: Double
    public var expectedHigh: Double

    public init(series: String, time: Int64, value: Double, score: Double, isAnomaly: Bool, expectedLow: Double, expectedHigh: Double) {
        self.series = series
        self.time = time
        self.value = value
        self.score = score
        self.isAnomaly = isAnomaly
        self.expectedLow = expectedLow
        self.expectedHigh = expectedHigh
    }
}
