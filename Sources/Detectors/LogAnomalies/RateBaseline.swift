import Stream

/// An exponentially weighted mean and variance of a count per window.
struct RateBaseline: Sendable, Equatable {
    var mean = 0.0
    var variance = 0.0
    /// Windows folded in so far.
    var windows = 0

    /// How many standard deviations `count` is from the mean. The spread is at least the
    /// Poisson one (√mean) and at least 1, so a count that never varied does not make every
    /// change infinitely significant.
    func score(_ count: Double) -> Double {
        (count - mean) / max(variance, mean, 1).squareRoot()
    }

    /// Folds in a window's count. Until `established` windows are in, every window weighs the
    /// same (a running mean: an unusual first window must not stay in the baseline for
    /// dozens of windows, as it would at the exponential weight). From then on the weight is
    /// `weight` and the count is clipped to `limit` deviations from the mean, so that one
    /// anomalous window does not blind it to the next (after a burst, a full stop would
    /// otherwise look normal).
    mutating func add(_ count: Double, weight: Double, limit: Double, established: Int) {
        var count = count
        let weight = windows < established ? max(weight, 1 / Double(windows + 1)) : weight
        if windows >= established {
            let spread = max(variance, mean, 1).squareRoot()
            count = min(max(count, mean - limit * spread), mean + limit * spread)
        }
        if windows == 0 {
            mean = count
        } else {
            let delta = count - mean
            mean += weight * delta
            variance = (1 - weight) * (variance + weight * delta * delta)
        }
        windows += 1
    }
}

extension RateBaseline: StateCodable {
    func encode(to w: inout StateWriter) {
        w.write(mean.bitPattern)
        w.write(variance.bitPattern)
        w.writeVarint(windows)
    }
    static func decode(from r: inout StateReader) throws -> RateBaseline {
        RateBaseline(mean: Double(bitPattern: try r.read()), variance: Double(bitPattern: try r.read()), windows: try r.readVarint())
    }
}
