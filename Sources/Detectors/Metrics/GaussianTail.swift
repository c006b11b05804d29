import Foundation

/// Turning a distance in standard deviations into a score in [0, 1] that means the same on
/// every series. The score is a monotone function of the two-sided Gaussian tail probability p
/// of that distance: s = S / (S + 5), where S = −log₁₀ p is the surprise in decimal digits.
/// So s = 0.5 for a one-in-100,000 value. Unlike 1 − p, it does not round to exactly 1 beyond
/// about 8σ, which keeps extreme points ordered, and one threshold orders points the same way
/// on every series.
public enum GaussianTail {
    /// −log₁₀ P(|Z| ≥ |z|) for a standard normal Z, finite for any finite z.
    @inline(__always)
    public static func surprise(sigmas z: Double) -> Double {
        let x = abs(z) * 0.7071067811865476
        if x < 20 { return -log10(erfc(x)) }
        // erfc(x) ≈ e^{−x²} / (x√π) where it would underflow.
        return (x * x + log(x * 1.7724538509055159)) / 2.302585092994046
    }

    @inline(__always)
    public static func score(surprise s: Double) -> Double {
        s.isNaN ? 0 : s / (s + 5)
    }

    @inline(__always)
    static func score(sigmas z: Double) -> Double {
        z.isNaN ? 0 : score(surprise: surprise(sigmas: z))
    }
}
