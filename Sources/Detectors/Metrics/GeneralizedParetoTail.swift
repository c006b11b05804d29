import Foundation
import Stream

/// One tail of a distribution beyond a high threshold t, modelled as extreme-value theory says
/// (Pickands–Balkema–de Haan): excesses y = x − t follow a generalized Pareto distribution
/// GPD(γ, σ). Fitted by the method of moments from running sums of the excesses, so adding a
/// peak and refitting is O(1) and the state is a handful of numbers whatever the stream's length.
struct GeneralizedParetoTail: Sendable, Equatable {
    /// The threshold t above which points are peaks.
    var threshold = 0.0
    /// Peaks seen (Nₜ), and the sums of their excesses and squared excesses.
    var peaks = 0.0
    var sum = 0.0
    var sumOfSquares = 0.0
    /// The fitted shape γ and scale σ.
    var shape = 0.0
    var scale = 1.0

    /// Starts the tail from calibration data: `sorted` ascending, t its `level` quantile.
    init(calibration sorted: UnsafeBufferPointer<Double>, level: Double) {
        let n = sorted.count
        threshold = sorted[min(n - 1, Int(level * Double(n)))]
        for x in sorted where x > threshold { addPeak(x - threshold) }
        if peaks == 0 { scale = max(abs(threshold) * 1e-3, 1e-9) }
    }

    init() {}

    mutating func addPeak(_ excess: Double) {
        peaks += 1
        sum += excess
        sumOfSquares += excess * excess
        fit()
    }

    /// Method of moments: with mean m and variance v of the excesses, γ = ½(1 − m²/v) and
    /// σ = ½m(1 + m²/v). With fewer than three peaks, or no spread, an exponential tail (γ = 0,
    /// σ = m). A fitted bounded tail (γ < 0) is taken as exponential (γ = 0): past the end point
    /// of a bounded fit every value would be equally impossible, and a detector must still say
    /// how far out it is.
    private mutating func fit() {
        let m = sum / peaks
        let v = peaks > 1 ? (sumOfSquares - peaks * m * m) / (peaks - 1) : 0
        if peaks < 3 || v <= 1e-12 * m * m {
            shape = 0
            scale = max(m, 1e-9)
        } else {
            let r = m * m / v
            shape = max(0, 0.5 * (1 - r))
            scale = shape > 0 ? max(0.5 * m * (1 + r), 1e-9) : max(m, 1e-9)
        }
    }

    /// −log₁₀ P(X > x) given `observations` points in all, where P(X > x) =
    /// (Nₜ/n)·(1 + γ(x − t)/σ)^(−1/γ) beyond t. Below t it continues smoothly (Nₜ/n · e^{(t−x)/σ},
    /// at most 1), so points there are still ordered by how far out they are. Computed in logs,
    /// so a far-out point has a large finite surprise rather than a probability that underflows.
    func surprise(_ x: Double, observations n: Double) -> Double {
        let logBase = log10(max(peaks, 0.5) / n)
        let y = x - threshold
        if y <= 0 { return max(0, -(logBase - y / scale * 0.4342944819032518)) }
        if shape < 1e-9 { return -logBase + y / scale * 0.4342944819032518 }
        return -logBase + log10(1 + shape * y / scale) / shape
    }

    /// The value exceeded with probability q: t + σ/γ·((q·n/Nₜ)^(−γ) − 1).
    func quantile(risk q: Double, observations n: Double) -> Double {
        let ratio = q * n / max(peaks, 0.5)
        guard ratio < 1 else { return threshold }
        if abs(shape) < 1e-9 { return threshold - scale * log(ratio) }
        return threshold + scale / shape * (pow(ratio, -shape) - 1)
    }
}

extension GeneralizedParetoTail: StateCodable {
    func encode(to w: inout StateWriter) {
        for v in [threshold, peaks, sum, sumOfSquares, shape, scale] { v.encode(to: &w) }
    }
    static func decode(from r: inout StateReader) throws -> GeneralizedParetoTail {
        var t = GeneralizedParetoTail()
        t.threshold = try .decode(from: &r); t.peaks = try .decode(from: &r); t.sum = try .decode(from: &r)
        t.sumOfSquares = try .decode(from: &r); t.shape = try .decode(from: &r); t.scale = try .decode(from: &r)
        return t
    }
}
