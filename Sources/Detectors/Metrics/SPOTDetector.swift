import Foundation
import Stream

/// SPOT and DSPOT (Siffer, Fouque, Termier, Largouët, "Anomaly Detection in Streams with
/// Extreme Value Theory", KDD 2017): thresholds from extreme-value theory instead of a
/// Gaussian assumption. After `calibration` points, each tail beyond its `level` quantile is
/// fitted with a generalized Pareto distribution; a point is anomalous when a value as
/// extreme has probability below `risk`. Points beyond the initial threshold but not anomalous
/// refine the fit; anomalies are not learnt.
///
/// With `depth` > 0 it is DSPOT: the tails are those of the residual against the mean of the
/// last `depth` normal points, which follows a drifting level.
public struct SPOTDetector: AnomalyDetector {
    public static let name = "spot"

    public struct Config: Sendable, Equatable {
        /// The probability below which a value is anomalous (q in the paper).
        public var risk: Double = 1e-4
        /// Points used to set the initial thresholds and fit.
        public var calibration: Int = 500
        /// The quantile of the calibration data where each tail starts.
        public var level: Double = 0.98
        /// DSPOT's window of recent normal points whose mean is the local level (0: plain SPOT).
        public var depth: Int = 20
        public init() {}
    }

    public let config: Config
    var calibrationBuffer: [Double] = []
    var upper = GeneralizedParetoTail()
    var lower = GeneralizedParetoTail()   // over negated residuals
    var observations = 0.0
    var drift: MovingStatistics

    public init(config: Config = Config()) {
        self.config = config
        drift = MovingStatistics(capacity: max(config.depth, 1))
    }

    var isCalibrated: Bool { observations > 0 }

    public mutating func update(time: Int64, value x: Double) -> DetectorVerdict {
        let local = config.depth > 0 && drift.count > 0 ? drift.mean : 0
        let residual = x - local
        guard isCalibrated else {
            if config.depth == 0 || drift.count >= config.depth {
                calibrationBuffer.append(residual)
                if calibrationBuffer.count >= config.calibration { calibrate() }
            }
            drift.add(x)
            return .learning(config.calibration - calibrationBuffer.count + max(0, config.depth - drift.count))
        }
        let surpriseUpper = upper.surprise(residual, observations: observations)
        let surpriseLower = lower.surprise(-residual, observations: observations)
        let surprise = max(surpriseUpper, surpriseLower)
        let isAnomaly = surprise > -log10(config.risk)
        let high = local + upper.quantile(risk: config.risk, observations: observations)
        let low = local - lower.quantile(risk: config.risk, observations: observations)
        let verdict = DetectorVerdict(score: GaussianTail.score(surprise: surprise), isAnomaly: isAnomaly,
                                      expected: min(low, high)...max(low, high),
                                      reason: .extremeValue(probability: pow(10, -surprise), threshold: surpriseUpper >= surpriseLower ? high : low))
        if !isAnomaly {
            observations += 1
            if residual > upper.threshold { upper.addPeak(residual - upper.threshold) }
            if -residual > lower.threshold { lower.addPeak(-residual - lower.threshold) }
            drift.add(x)
        }
        return verdict
    }

    private mutating func calibrate() {
        calibrationBuffer.sort()
        calibrationBuffer.withUnsafeBufferPointer { upper = GeneralizedParetoTail(calibration: $0, level: config.level) }
        var negated = calibrationBuffer.reversed().map { -$0 }
        negated.withUnsafeMutableBufferPointer { lower = GeneralizedParetoTail(calibration: UnsafeBufferPointer($0), level: config.level) }
        observations = Double(calibrationBuffer.count)
        calibrationBuffer = []
    }
}

extension SPOTDetector.Config: StateCodable {
    public func encode(to w: inout StateWriter) {
        risk.encode(to: &w); calibration.encode(to: &w); level.encode(to: &w); depth.encode(to: &w)
    }
    public static func decode(from r: inout StateReader) throws -> Self {
        var c = Self()
        c.risk = try .decode(from: &r); c.calibration = try .decode(from: &r)
        c.level = try .decode(from: &r); c.depth = try .decode(from: &r)
        return c
    }
}

extension SPOTDetector {
    public func encode(to w: inout StateWriter) {
        config.encode(to: &w); calibrationBuffer.encode(to: &w); upper.encode(to: &w); lower.encode(to: &w)
        observations.encode(to: &w); drift.encode(to: &w)
    }
    public static func decode(from r: inout StateReader) throws -> Self {
        var d = Self(config: try .decode(from: &r))
        d.calibrationBuffer = try .decode(from: &r); d.upper = try .decode(from: &r); d.lower = try .decode(from: &r)
        d.observations = try .decode(from: &r); d.drift = try .decode(from: &r)
        return d
    }
}
