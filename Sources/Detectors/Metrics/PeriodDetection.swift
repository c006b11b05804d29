/// Finds a series' season length from its first points: the lag, between `minimum` and half
/// the points, with the strongest autocorrelation peak, if that peak is at least `minimumCorrelation`.
/// O(n·maxLag) once, on the warm-up buffer only.
enum PeriodDetection {
    static func period(of values: [Double], minimum: Int = 4, minimumCorrelation: Double = 0.3) -> Int? {
        let n = values.count
        let maxLag = n / 2
        guard maxLag > minimum + 1 else { return nil }
        let mean = values.reduce(0, +) / Double(n)
        let centred = values.map { $0 - mean }
        let energy = centred.reduce(0) { $0 + $1 * $1 }
        guard energy > 0 else { return nil }
        var correlation = [Double](repeating: 0, count: maxLag + 2)
        centred.withUnsafeBufferPointer { c in
            for lag in 1...(maxLag + 1) {
                var sum = 0.0
                for i in 0..<(n - lag) { sum += c[i] * c[i + lag] }
                // Scaled to the overlap so long lags are not penalised for having fewer pairs.
                correlation[lag] = sum / energy * Double(n) / Double(n - lag)
            }
        }
        var best: (lag: Int, correlation: Double)?
        for lag in max(minimum, 2)...maxLag {
            let c = correlation[lag]
            // A peak: above both neighbours, and past the first dip (lag 1's trivial correlation).
            guard c >= minimumCorrelation, c > correlation[lag - 1], c >= correlation[lag + 1] else { continue }
            guard correlation[1..<lag].contains(where: { $0 < c - 0.1 }) else { continue }
            // Prefer the shortest period of nearly the best strength: multiples of a season
            // correlate as well as the season itself.
            if let b = best, c <= b.correlation + 0.05 { continue }
            best = (lag, c)
        }
        return best?.lag
    }
}
