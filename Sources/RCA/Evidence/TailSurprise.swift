import Foundation

/// Surprise S = −log₁₀ p of the tests the indicators use, so that a latency shift, a vanished
/// log line and a CPU spike are weighed on one scale (S = 3: one in a thousand).
enum TailSurprise {
    /// P(K ≥ k) for K ~ Binomial(n, p), exact in log space.
    static func binomialAtLeast(_ k: Int, of n: Int, p: Double) -> Double {
        guard k > 0 else { return 0 }
        guard k <= n else { return 0 }
        let p = min(max(p, 1e-12), 1 - 1e-12)
        let lp = log(p), lq = log1p(-p)
        var terms: [Double] = []
        terms.reserveCapacity(n - k + 1)
        for i in k...n { terms.append(logChoose(n, i) + Double(i) * lp + Double(n - i) * lq) }
        return max(0, -logSumExp(terms) / M_LN10)
    }

    /// P(K ≤ k) for K ~ Binomial(n, p).
    static func binomialAtMost(_ k: Int, of n: Int, p: Double) -> Double {
        binomialAtLeast(n - k, of: n, p: 1 - p)
    }

    /// The more surprising tail of a binomial count, against the rate p.
    static func binomialTwoSided(_ k: Int, of n: Int, p: Double) -> Double {
        Double(k) >= Double(n) * p ? binomialAtLeast(k, of: n, p: p) : binomialAtMost(k, of: n, p: p)
    }

    /// P(X ≥ x) for a chi-squared X with `df` degrees of freedom (Wilson–Hilferty).
    static func chiSquared(_ x: Double, degreesOfFreedom df: Int) -> Double {
        guard x > 0, df > 0 else { return 0 }
        let k = Double(df)
        let z = (pow(x / k, 1.0 / 3) - (1 - 2 / (9 * k))) / (2 / (9 * k)).squareRoot()
        return upperNormal(z)
    }

    /// −log₁₀ P(|T| ≥ |t|) for Student's t with 3 degrees of freedom: a tail heavy enough for
    /// resource metrics (a few baseline readings, occasional spikes) yet one that lets a
    /// well-established shift count (P ∝ t⁻³ far out, where a Gaussian's vanishes).
    static func studentT3(_ t: Double) -> Double {
        let x = abs(t) / 3.0.squareRoot()
        guard x > 0 else { return 0 }
        // One tail is (atan(1/x) − x/(1+x²))/π; far out its series avoids the cancellation.
        let oneTail = x > 100 ? (2.0 / 3 / (x * x * x) - 0.8 / pow(x, 5)) / Double.pi
                              : (atan(1 / x) - x / (1 + x * x)) / Double.pi
        return max(0, -log10(2 * oneTail))
    }

    /// P(Z ≥ z) for a standard normal.
    static func upperNormal(_ z: Double) -> Double {
        guard z > 0 else { return 0 }
        let x = z * 0.7071067811865476
        if x < 20 { return max(0, -log10(erfc(x) / 2)) }
        return (x * x + log(x * 1.7724538509055159) + M_LN2) / M_LN10
    }

    private static func logChoose(_ n: Int, _ k: Int) -> Double {
        lgamma(Double(n + 1)) - lgamma(Double(k + 1)) - lgamma(Double(n - k + 1))
    }

    private static func logSumExp(_ xs: [Double]) -> Double {
        guard let m = xs.max(), m > -.infinity else { return -.infinity }
        return m + log(xs.reduce(0) { $0 + exp($1 - m) })
    }
}
