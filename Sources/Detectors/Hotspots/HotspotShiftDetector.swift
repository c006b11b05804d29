/// A function whose share of CPU samples moved against its baseline.
public struct HotspotShift: Sendable, Equatable, CustomStringConvertible {
    public var function: String
    /// This window's share of samples, and the baseline's.
    public var share: Double
    public var baselineShare: Double
    /// Standard deviations of the move, binomial (the window's samples as draws).
    public var z: Double
    public var windowEnd: Int64

    public var description: String {
        let dir = share > baselineShare ? "up" : "down"
        return "\(function): \(pct(share)) of samples (baseline \(pct(baselineShare)), \(dir), z \(String(format: "%.1f", z)))"
    }

    private func pct(_ v: Double) -> String { String(format: "%.1f%%", v * 100) }
}

/// Watches where CPU time goes, window after window: each function's share of the samples
/// against its baseline (an exponentially weighted mean of its past shares), flagging a move
/// that is both large (`minimumShift`, in share points) and unlikely by sampling alone (a
/// binomial z of `minimumZ`: few samples make noisy shares). A function new to the profile has
/// a baseline of zero. Learns for `warmupWindows` before it judges. Codable: keyed state.
public struct HotspotShiftDetector: Sendable, Codable, Equatable {
    public var alpha = 0.2
    public var minimumShift = 0.05
    public var minimumZ = 4.0
    public var warmupWindows = 3
    /// Functions tracked at most (the largest baselines are kept): bounded memory.
    public var maximumFunctions = 1_000

    private(set) var baseline: [String: Double] = [:]
    private(set) var windows = 0

    public init() {}

    /// Judges one window (`samples`: leaf-function → samples; `total`: all samples) and folds
    /// it into the baseline.
    public mutating func observe(samples: [String: Int], total: Int, windowEnd: Int64) -> [HotspotShift] {
        guard total > 0 else { return [] }
        let n = Double(total)
        var shifts: [HotspotShift] = []
        if windows >= warmupWindows {
            for f in Set(samples.keys).union(baseline.keys) {
                let x = Double(samples[f] ?? 0) / n
                let p = baseline[f] ?? 0
                guard abs(x - p) >= minimumShift else { continue }
                // The variance under the baseline; a function absent from it gets the floor of
                // one sample's share, so that a new hotspot is measured, not divided by zero.
                let q = max(p, 1 / n)
                let z = (x - p) / (q * (1 - q) / n).squareRoot()
                if abs(z) >= minimumZ { shifts.append(HotspotShift(function: f, share: x, baselineShare: p, z: z, windowEnd: windowEnd)) }
            }
        }
        for f in Set(samples.keys).union(baseline.keys) {
            let x = Double(samples[f] ?? 0) / n
            baseline[f] = windows == 0 ? x : (1 - alpha) * (baseline[f] ?? 0) + alpha * x
        }
        if baseline.count > maximumFunctions {
            let kept = baseline.sorted { $0.value > $1.value }.prefix(maximumFunctions)
            baseline = Dictionary(uniqueKeysWithValues: kept.map { ($0.key, $0.value) })
        }
        windows += 1
        return shifts.sorted { abs($0.z) > abs($1.z) }
    }
}
