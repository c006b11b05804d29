/// Converting between a detector score and the surprise it encodes (S = −log₁₀ p; see
/// `GaussianTail`): post-processors work on surprises, which add and average sensibly.
enum Surprise {
    @inline(__always)
    static func of(score s: Double) -> Double {
        s >= 1 ? 1e6 : max(0, 5 * s / (1 - s))
    }
}
