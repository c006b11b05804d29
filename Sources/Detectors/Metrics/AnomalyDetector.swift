import Foundation
import Stream

/// A streaming detector over one series of numbers: fed each point in time order, it says how
/// anomalous the point is. Detectors are values: their whole state is in the value, so a
/// keyed operator keeps one per series and checkpoints it (`StateCodable`). `update` costs
/// O(1) or O(log n) and allocates nothing.
public protocol AnomalyDetector: Sendable, StateCodable {
    /// The detector's name in results and anomaly events (`ewma`, `spot`, …).
    static var name: String { get }
    /// Judges the point at `time` (milliseconds; non-decreasing) and learns from it.
    mutating func update(time: Int64, value: Double) -> DetectorVerdict
}

/// One point's judgement.
public struct DetectorVerdict: Sendable, Equatable {
    /// How anomalous, in [0, 1]; comparable across series (a calibrated tail probability,
    /// not a raw distance), so one threshold can serve many series.
    public var score: Double
    /// Whether the detector's own threshold was crossed.
    public var isAnomaly: Bool
    /// The range the detector expected the value in (±∞ while it is still learning).
    public var expected: ClosedRange<Double>
    public var reason: DetectorReason

    public init(score: Double, isAnomaly: Bool, expected: ClosedRange<Double>, reason: DetectorReason) {
        self.score = score
        self.isAnomaly = isAnomaly
        self.expected = expected
        self.reason = reason
    }

    public static func learning(_ remaining: Int) -> DetectorVerdict {
        DetectorVerdict(score: 0, isAnomaly: false, expected: -Double.infinity...Double.infinity, reason: .learning(remaining: remaining))
    }
}

/// Why a detector scored a point as it did: numbers, not text, so judging a point allocates
/// nothing; `description` spells it out when an anomaly is reported.
public enum DetectorReason: Sendable, Equatable, CustomStringConvertible {
    /// Still collecting the points it needs before it judges.
    case learning(remaining: Int)
    /// Standard deviations from an exponentially weighted mean.
    case deviation(sigmas: Double)
    /// Scaled median absolute deviations from the median of a sliding window.
    case robustDeviation(mads: Double)
    /// Standard deviations of the residual after level, trend and season (period in points).
    case seasonalResidual(sigmas: Double, period: Int)
    /// Beyond (or near) an extreme-value threshold: the estimated probability of a value this
    /// extreme.
    case extremeValue(probability: Double, threshold: Double)
    /// The share of recent patterns (words of the last few value bands) never seen before, and
    /// whether the value's own band is new.
    case novelty(share: Double, newLevel: Bool)
    /// A recent shape unlike every learnt one; `similarity` is how well the closest matched.
    case novelShape(similarity: Double)
    /// The ensemble, for an anomaly: which member drove the score, and that member's reason
    /// (for other points the ensemble gives the strongest member's reason as it is).
    indirect case member(name: String, reason: DetectorReason)

    public var description: String {
        switch self {
        case .learning(let n): "learning (\(n) more points)"
        case .deviation(let s): "\(format(s))σ from the moving average"
        case .robustDeviation(let m): "\(format(m)) robust σ (MAD) from the moving median"
        case .seasonalResidual(let s, let p): "\(format(s))σ off the seasonal forecast (period \(p) points)"
        case .extremeValue(let p, let t): "beyond the extreme-value threshold \(format(t)) (probability \(formatProbability(p)))"
        case .novelty(let share, let newLevel):
            "\(Int((share * 100).rounded()))% of the recent patterns are new" + (newLevel ? ", at a level never seen before" : "")
        case .novelShape(let similarity): "a shape unlike any seen before (closest match \(format(similarity)))"
        case .member(let name, let reason): "\(name): \(reason)"
        }
    }

    private func format(_ x: Double) -> String {
        x.isFinite ? String(format: "%.3g", x) : "\(x)"
    }
    private func formatProbability(_ p: Double) -> String { String(format: "%.2g", p) }
}
