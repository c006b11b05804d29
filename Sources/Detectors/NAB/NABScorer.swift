import Foundation

/// A detector's NAB result under one profile, at the threshold that maximises it.
public struct NABScore: Sendable, Equatable {
    public var profile: NABProfile
    /// Rows whose anomaly score is at least this are detections.
    public var threshold: Double
    /// The weighted sum of NAB's rewards and costs over all series.
    public var raw: Double
    /// The raw score of the detector that never fires, and of the one that fires at the first
    /// row of every window and nowhere else.
    public var null: Double
    public var perfect: Double
    /// 100 · (raw − null) / (perfect − null): NAB's reported score.
    public var normalized: Double
    public var detectedWindows: Int
    public var missedWindows: Int
    public var falsePositives: Int
}

/// NAB v1.1's scoring (Lavin & Ahmad 2015), reimplemented from its definitions:
/// - the first 15% of each series (at most 750 rows) is probationary and never scored;
/// - a detection at row i inside a window of width w ending at row e earns
///   `σ(−(e − i + 1)/w) / σ(−1)` × tpWeight, where σ is NAB's scaled sigmoid
///   `2/(1+e^{5y}) − 1`; only a window's best (earliest) detection counts;
/// - a detection outside windows costs fpWeight × σ(y), y its distance after the previous
///   window's end in units of that window's width minus one (−1 when no window came before);
/// - a window with no detection costs fnWeight.
/// One threshold per profile applies to all series; the best is found by sweeping every
/// distinct anomaly score, which is what NAB's own sweep does. The reported score is
/// normalised between the null detector (every scored window missed) and the perfect one
/// (tpWeight for every window in the labels), as NAB's runner does.
public enum NABScorer {
    public static let probationPercent = 0.15

    public static func probationaryRows(rowCount n: Int) -> Int {
        min(Int((probationPercent * Double(n)).rounded(.down)), Int(probationPercent * 5000))
    }

    /// NAB's scaled sigmoid: +1 well before a window's end, 0 at it, towards −1 after it
    /// (and exactly −1 more than three widths after).
    public static func scaledSigmoid(_ y: Double) -> Double {
        y > 3 ? -1 : 2 / (1 + exp(5 * y)) - 1
    }

    /// What a detection at each row would be worth, before profile weights: `window` is the
    /// window's index in the series (nil outside windows), `value` the unweighted reward
    /// (in a window, already divided by the best possible one) or cost. Probationary rows are
    /// left out (`scored` false).
    struct RowWorth {
        var window: Int?
        var value: Double
        var scored: Bool
    }

    static func rowWorths(of series: NABSeries) -> [RowWorth] {
        let n = series.values.count
        let probation = probationaryRows(rowCount: n)
        let maxReward = scaledSigmoid(-1)
        var out: [RowWorth] = []
        out.reserveCapacity(n)
        var next = 0                 // the next window to enter
        var previousEnd: Int?        // the last window passed: its last row and width
        var previousWidth = 0
        for i in 0..<n {
            var worth = RowWorth(window: nil, value: -1, scored: i >= probation)
            if next < series.windows.count, series.windows[next].contains(i) {
                let window = series.windows[next]
                let width = window.count
                worth.window = next
                worth.value = scaledSigmoid(-Double(window.upperBound - i + 1) / Double(width)) / maxReward
                if i == window.upperBound {
                    previousEnd = window.upperBound
                    previousWidth = width
                    next += 1
                }
            } else if let end = previousEnd {
                // A one-row window has no width to measure by; NAB divides by zero there.
                let y = previousWidth > 1 ? Double(i - end) / Double(previousWidth - 1) : .infinity
                worth.value = scaledSigmoid(y)
            }
            out.append(worth)
        }
        return out
    }

    /// The windows that count: those with at least one scored row.
    static func scoredWindowCount(_ worths: [RowWorth]) -> Int {
        Set(worths.lazy.filter { $0.scored }.compactMap { $0.window }).count
    }

    /// Scores one detector's anomaly scores (one array per series, one score per row, in the
    /// series' order) under each profile, each at its best threshold.
    /// With `threshold`, scores at that threshold instead of searching for the best.
    public static func score(series: [NABSeries], anomalyScores: [[Double]], profiles: [NABProfile] = NABProfile.all,
                             threshold: Double? = nil) -> [NABScore] {
        precondition(series.count == anomalyScores.count, "one array of anomaly scores per series")
        // Every scored row of every series, with a window id unique across series.
        var rows: [(score: Double, window: Int, value: Double)] = []
        var windowCount = 0
        for (s, scores) in zip(series, anomalyScores) {
            precondition(scores.count == s.values.count, "\(s.name): one anomaly score per row")
            let worths = rowWorths(of: s)
            var globalID: [Int: Int] = [:]
            for (i, w) in worths.enumerated() where w.scored {
                var id = -1
                if let local = w.window {
                    if let g = globalID[local] { id = g } else { id = windowCount; globalID[local] = id; windowCount += 1 }
                }
                rows.append((scores[i], id, w.value))
            }
        }
        rows.sort { $0.score > $1.score }
        let labelled = series.reduce(0) { $0 + $1.windows.count }
        return profiles.map { sweep(rows: rows, windowCount: windowCount, labelledWindows: labelled, profile: $0, fixedThreshold: threshold) }
    }

    /// `windowCount` windows have scored rows; `labelledWindows` counts those that lie wholly
    /// in probationary rows too, as NAB's "perfect" score does (it counts the labels file).
    static func sweep(rows: [(score: Double, window: Int, value: Double)], windowCount: Int, labelledWindows: Int,
                      profile: NABProfile, fixedThreshold: Double? = nil) -> NABScore {
        let null = -profile.fnWeight * Double(windowCount)
        let perfect = profile.tpWeight * Double(labelledWindows)
        var best = NABScore(profile: profile, threshold: (rows.first?.score ?? 0).nextUp, raw: null, null: null, perfect: perfect,
                            normalized: 0, detectedWindows: 0, missedWindows: windowCount, falsePositives: 0)
        var reward = [Double?](repeating: nil, count: windowCount)
        var total = null
        var detected = 0
        var falsePositives = 0
        var i = 0
        while i < rows.count {
            let threshold = rows[i].score
            if let fixed = fixedThreshold, threshold < fixed { break }
            // Every row at this score becomes a detection at once.
            while i < rows.count && rows[i].score == threshold {
                let row = rows[i]
                if row.window < 0 {
                    total += profile.fpWeight * row.value
                    falsePositives += 1
                } else {
                    let r = profile.tpWeight * row.value
                    if let current = reward[row.window] {
                        if r > current { total += r - current; reward[row.window] = r }
                    } else {
                        total += profile.fnWeight + r
                        reward[row.window] = r
                        detected += 1
                    }
                }
                i += 1
            }
            if total > best.raw || fixedThreshold != nil {
                best.raw = total
                best.threshold = threshold
                best.detectedWindows = detected
                best.missedWindows = windowCount - detected
                best.falsePositives = falsePositives
            }
        }
        if let fixed = fixedThreshold { best.threshold = fixed }
        best.normalized = perfect > null ? 100 * (best.raw - null) / (perfect - null) : 0
        return best
    }
}

extension NABScorer {
    /// One series' share of a score at a given threshold: what to look at when a detector
    /// does badly (which series cost the false positives, which windows it missed).
    public struct SeriesResult: Sendable {
        public var name: String
        public var raw: Double
        public var detectedWindows: Int
        public var missedWindows: Int
        public var falsePositives: Int
    }

    public static func breakdown(series: NABSeries, anomalyScores: [Double], threshold: Double, profile: NABProfile) -> SeriesResult {
        let worths = rowWorths(of: series)
        var result = SeriesResult(name: series.name, raw: 0, detectedWindows: 0, missedWindows: 0, falsePositives: 0)
        var best: [Int: Double] = [:]
        for (i, w) in worths.enumerated() where w.scored && anomalyScores[i] >= threshold {
            if let window = w.window {
                best[window] = max(best[window] ?? -.infinity, profile.tpWeight * w.value)
            } else {
                result.raw += profile.fpWeight * w.value
                result.falsePositives += 1
            }
        }
        let windows = Set(worths.lazy.filter { $0.scored }.compactMap { $0.window })
        for window in windows {
            if let reward = best[window] { result.raw += reward; result.detectedWindows += 1 } else {
                result.raw -= profile.fnWeight
                result.missedWindows += 1
            }
        }
        return result
    }
}
