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

    /// Folds in a window's count, clipped to `limit` deviations from the mean once the
    /// baseline is established, so that one anomalous window does not blind it to the next
    /// (after a burst, a full stop would otherwise look normal).
    mutating func add(_ count: Double, weight: Double, limit: Double) {
        var count = count
        if windows > 0 {
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
