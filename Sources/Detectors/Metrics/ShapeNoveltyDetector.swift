import Foundation
import Stream

/// Novel shapes, in the manner of ARTime (Hampton 2021, a NAB entry): the series is downsampled
/// (spike-preserving), quantised, snapped to its running median, and each window of the last
/// `window` points becomes a feature vector of its normalised shape (Haar wavelet) and its
/// levels. A dual-vigilance fuzzy ART network learns categories of these vectors online; a
/// vector that matches no category well enough is a novel event, and only such events score,
/// graded by how badly the best category matched. Vigilance adapts to the stream. Unlike
/// ARTime, which reads the whole file's min and max first, levels are normalised by the spread
/// of the warm-up, widened on both sides, so the detector needs nothing from the future.
public struct ShapeNoveltyDetector: AnomalyDetector {
    public static let name = "shape"

    public struct Config: Sendable, Equatable {
        /// Raw points per downsampled point; with `stepDuration`, only until the sampling
        /// interval is known.
        public var step: Int = 5
        /// When set (ms), the step is chosen from the series' median interval over its first
        /// points so that a downsampled point spans about this long: 5 points of 5-minute data,
        /// 1 of hourly data. Nil: always `step`.
        public var stepDuration: Int64? = nil
        /// Downsampled points per feature window.
        public var window: Int = 8
        /// Downsampled points of warm-up (range, starting vigilance).
        public var warmup: Int = 120
        public var levels: Int = 80
        /// Levels within this (normalised) distance of the running median are snapped to it.
        public var snap: Double = 0.075
        /// Downsampled steps during which a repeat of an event does not score again.
        public var mask: Int = 12
        /// The widening of the warm-up range on each side, as a share of it.
        public var margin: Double = 0.5
        /// At most this many categories (the least recently matched is replaced).
        public var maxCategories: Int = 100
        /// The event score that makes an anomaly (ARTime's NAB threshold is 0.32).
        public var threshold: Double = 0.35
        /// The range the series is known to stay in (a percentage: 0...100), when it is known:
        /// levels are normalised over it instead of over the widened warm-up range.
        public var valueRange: ClosedRange<Double>? = nil
        public init() {}
    }

    public let config: Config
    /// Raw points per downsampled point (0 until chosen).
    var step = 0
    var pendingTimes: [Int64] = []
    var pendingValues: [Double] = []
    var block: [Double] = []
    var ema = 0.0
    var downsampled = 0          // dsi
    var low = 0.0, high = 1.0    // the normalisation range, fixed after warm-up
    var warmupValues: [Double] = []
    var warmupFeatures: [[Double]] = []
    var histogram: [Int]
    var median = 0, below = 0, above = 0
    var recentLevels: [Double]
    /// Category weights, `width` values each, one after another, and each one's sum.
    var categories: [Double] = []
    var categorySums: [Double] = []
    var lastUsed: [Int] = []
    var input: [Double] = []      // scratch: the complement-coded features
    var featureScratch: [Double] = []
    var rhoLow = 0.8, rhoHigh = 0.8
    var lastAnomaly = 0, lastAnomalySimilarity = 0.0, lastRhoUpdate = 0
    var maskCategories = false
    var stepsWithoutNew = 0
    /// The mean best-match of past events (a floor for the lower vigilance), and the last one.
    var anomalySimilaritySum = 0.0, anomalyCount = 0.0, lastEventSimilarity = 0.0
    var similaritySum = 0.0, similarityCount = 0.0
    var similarityWindow: [Double] = []
    var differenceWindow: [Double] = []

    public init(config: Config = Config()) {
        precondition(config.window >= 2 && config.window & (config.window - 1) == 0, "the shape window is a power of two (Haar), got \(config.window)")
        precondition(config.step >= 1 && config.warmup > config.window && config.levels >= 2, "shape detector: step ≥ 1, warm-up longer than a window, ≥ 2 levels")
        self.config = config
        histogram = [Int](repeating: 0, count: config.levels + 1)
        recentLevels = [Double](repeating: 0, count: config.window)
    }

    public mutating func update(time: Int64, value x: Double) -> DetectorVerdict {
        if let duration = config.stepDuration, step == 0 {
            pendingTimes.append(time)
            pendingValues.append(x)
            guard pendingTimes.count > Self.intervalsToMeasure else { return .learning(config.warmup * config.step) }
            var intervals = zip(pendingTimes.dropFirst(), pendingTimes).map { $0 - $1 }
            intervals.sort()
            let median = max(intervals[intervals.count / 2], 1)
            step = Int(min(max((Double(duration) / Double(median)).rounded(), 1), 60))
            let values = pendingValues
            pendingTimes = []; pendingValues = []
            var last = DetectorVerdict.learning(config.warmup)
            for v in values { last = consume(v) }
            return last
        }
        if step == 0 { step = config.step }
        return consume(x)
    }

    static let intervalsToMeasure = 8

    private mutating func consume(_ x: Double) -> DetectorVerdict {
        block.append(x)
        if block.count < step { return downsampled > config.warmup ? quiet : .learning(1) }
        let score = step(block)
        block.removeAll(keepingCapacity: true)
        if downsampled <= config.warmup { return .learning(config.warmup - downsampled + 1) }
        return DetectorVerdict(score: score, isAnomaly: score >= config.threshold, expected: low...high,
                               reason: .novelShape(similarity: score > 0 ? lastEventSimilarity : 1))
    }

    private var quiet: DetectorVerdict { DetectorVerdict(score: 0, isAnomaly: false, expected: low...high, reason: .novelShape(similarity: 1)) }

    /// One downsampled point: its features, then learning and the event score.
    private mutating func step(_ values: [Double]) -> Double {
        downsampled += 1
        let mean = values.reduce(0, +) / Double(values.count)
        let mx = values.max()!, mn = values.min()!
        if downsampled == 1 { ema = mean }
        ema = (ema + mean) / 2
        var ds = abs(mx - ema) < abs(mn - ema) ? mn : mx
        if abs(ds - mean) < 0.1 * abs(mean) { ds = mean }
        if downsampled <= config.warmup {
            warmupValues.append(ds)
            if downsampled < config.warmup { return 0 }
            let lo = warmupValues.min()!, hi = warmupValues.max()!
            let spread = hi > lo ? hi - lo : max(abs(hi) * 0.1, 1e-6)
            low = lo - config.margin * spread
            high = hi + config.margin * spread
            if let known = config.valueRange, known.upperBound > known.lowerBound { (low, high) = (known.lowerBound, known.upperBound) }
            let replay = warmupValues
            warmupValues = []
            downsampled = 0
            for v in replay { learnWarmup(v) }
            startVigilance()
            return 0
        }
        return process(features(of: ds))
    }

    private mutating func learnWarmup(_ ds: Double) {
        downsampled += 1
        warmupFeatures.append(features(of: ds))
    }

    /// Quantises, snaps to the running median, and builds shape + level features.
    private mutating func features(of ds: Double) -> [Double] {
        let levels = Double(config.levels)
        var v = min(max((ds - low) / (high - low), 0), 1)
        let level = Int((v * levels).rounded(.toNearestOrEven))
        v = Double(level) / levels
        // The running median of levels, moved one bin at a time.
        histogram[level] += 1
        if downsampled == 1 { median = level }
        if median > level { below += 1 } else if median < level { above += 1 }
        let half = downsampled / 2
        if half < above {
            below += histogram[median]; median += 1
            while histogram[median] == 0 { median += 1 }
            above -= histogram[median]
        } else if half < below {
            above += histogram[median]; median -= 1
            while histogram[median] == 0 { median -= 1 }
            below -= histogram[median]
        }
        if abs(v - Double(median) / levels) < config.snap { v = Double(median) / levels }
        recentLevels.removeFirst()
        recentLevels.append(v)
        let n = config.window
        if featureScratch.count != 2 * n { featureScratch = [Double](repeating: 0, count: 2 * n) }
        guard downsampled >= n else {
            for k in 0..<(2 * n) { featureScratch[k] = 0 }
            return featureScratch
        }
        // Shape: the window less its minimum, scaled to [0, 1], through the Haar transform,
        // scaled to [0, 1] again; then the levels themselves. Stack scratch, no allocation.
        let lowest = recentLevels.min()!
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * n) { scratch in
            let d = UnsafeMutableBufferPointer(rebasing: scratch[0..<n])
            let h = UnsafeMutableBufferPointer(rebasing: scratch[n..<(2 * n)])
            var top = 0.0
            for k in 0..<n { d[k] = recentLevels[k] - lowest; top = max(top, d[k]) }
            if top > 0 { for k in 0..<n { d[k] /= top } }
            Self.haar(d, into: h)
            var hmin = Double.infinity, hmax = -Double.infinity
            for k in 0..<n { hmin = min(hmin, h[k]); hmax = max(hmax, h[k]) }
            let span = hmax - hmin
            for k in 0..<n { featureScratch[k] = span > 0 ? (h[k] - hmin) / span : h[k] - hmin }
            for k in 0..<n { featureScratch[n + k] = recentLevels[k] }
        }
        return featureScratch
    }

    /// A full orthonormal Haar transform (coarsest coefficient first) of a power-of-two-length
    /// vector; `x` is overwritten as scratch.
    static func haar(_ x: UnsafeMutableBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>) {
        var n = x.count
        let r = 0.7071067811865476
        while n > 1 {
            for i in 0..<(n / 2) {
                let even = x[2 * i], odd = x[2 * i + 1]
                out[n / 2 + i] = (odd - even) * r
                x[i] = (even + odd) * r
            }
            n /= 2
        }
        out[0] = x[0]
    }

    var categoryCount: Int { lastUsed.count }

    /// Activation of every category, M = fs³·es² (fs: overall fuzzy match, es: match on the newest
    /// level); learns; returns the best M, its level match, and whether the vector was novel.
    /// Every category at or above the upper vigilance learns (fuzzy min); if none does, a new
    /// category starts from the vector — novel when even the best is below the lower vigilance.
    private mutating func train(_ f: [Double], learn: Bool) -> (a: Double, e: Double, novel: Bool) {
        let n = f.count
        let width = 2 * n
        if input.count != width { input = [Double](repeating: 0, count: width) }
        for k in 0..<n { input[k] = f[k]; input[n + k] = 1 - f[k] }
        if categoryCount == 0 {
            categories.append(contentsOf: repeatElement(1.0, count: width))
            categorySums.append(Double(width))
            lastUsed.append(downsampled)
            return (0, 0, false)
        }
        let newest = n - 1, complement = width - 1
        var best = -1.0, bestLevel = 0.0
        var learnt = false
        let count = categoryCount, upper = rhoHigh, now = downsampled
        // Moved out of self for the loop (no copies: the arrays are swapped back after).
        var weights: [Double] = [], sums: [Double] = [], used: [Int] = []
        swap(&weights, &categories); swap(&sums, &categorySums); swap(&used, &lastUsed)
        input.withUnsafeBufferPointer { x in
            weights.withUnsafeMutableBufferPointer { w in
                for j in 0..<count {
                    let base = j * width
                    let wn = w[base + newest], wc = w[base + complement]
                    let es = (min(x[newest], wn) + min(x[complement], wc)) / max(wn + wc, 1e-12)
                    // fs ≤ 1, so M ≤ es²: a category that can neither beat the best nor learn is
                    // skipped before the full overlap (exact pruning; most categories are).
                    let bound = es * es
                    if bound <= best && !(learn && bound >= upper) { continue }
                    let em = Self.fuzzyOverlap(x.baseAddress!, w.baseAddress! + base, count: width)
                    let fs = em / (sums[j] == 0 ? 0.001 : sums[j])
                    let m = fs * fs * fs * bound
                    if m > best { best = m; bestLevel = es }
                    if learn && m >= upper {
                        var sum = 0.0
                        for k in 0..<width { w[base + k] = min(x[k], w[base + k]); sum += w[base + k] }
                        sums[j] = sum
                        used[j] = now
                        learnt = true
                    }
                }
            }
        }
        swap(&weights, &categories); swap(&sums, &categorySums); swap(&used, &lastUsed)
        guard learn else { return (best, bestLevel, false) }
        if learnt { return (best, bestLevel, false) }
        addCategory()
        return (best, bestLevel, best < rhoLow)
    }

    /// A new category from the current input, replacing the least recently matched one (never
    /// the first, all-ones category) when the network is full.
    private mutating func addCategory() {
        let width = input.count
        if categoryCount >= config.maxCategories,
           let oldest = lastUsed.indices.dropFirst().min(by: { lastUsed[$0] < lastUsed[$1] }) {
            for k in 0..<width { categories[oldest * width + k] = input[k] }
            categorySums[oldest] = input.reduce(0, +)
            lastUsed[oldest] = downsampled
        } else {
            categories.append(contentsOf: input)
            categorySums.append(input.reduce(0, +))
            lastUsed.append(downsampled)
        }
    }

    /// Σ min(a[k], b[k]): the fuzzy AND's size (the hot loop). A comparison rather than
    /// `Swift.min`, whose NaN rules keep the compiler from vectorising it; inputs are never NaN.
    @inline(__always)
    static func fuzzyOverlap(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, count: Int) -> Double {
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        var k = 0
        while k + 4 <= count {
            s0 += a[k] < b[k] ? a[k] : b[k]
            s1 += a[k + 1] < b[k + 1] ? a[k + 1] : b[k + 1]
            s2 += a[k + 2] < b[k + 2] ? a[k + 2] : b[k + 2]
            s3 += a[k + 3] < b[k + 3] ? a[k + 3] : b[k + 3]
            k += 4
        }
        while k < count { s0 += a[k] < b[k] ? a[k] : b[k]; k += 1 }
        return (s0 + s1) + (s2 + s3)
    }

    /// The starting vigilance: the mean best similarity over the second half of the warm-up,
    /// learnt at vigilance 0.8 by a scratch network; then the warm-up is learnt for real.
    private mutating func startVigilance() {
        var scratch = self
        scratch.categories = []; scratch.categorySums = []; scratch.lastUsed = []
        scratch.rhoLow = 0.8; scratch.rhoHigh = 0.8
        var similarities: [Double] = []
        for f in warmupFeatures.dropFirst(config.window - 1) { similarities.append(scratch.train(f, learn: true).a) }
        let half = similarities.suffix(max(similarities.count / 2, 1))
        let rho = half.reduce(0, +) / Double(half.count)
        rhoLow = rho; rhoHigh = rho
        similarityWindow = [Double](repeating: 1, count: config.warmup / 2 + 1)
        differenceWindow = [Double](repeating: 0, count: config.warmup + 1)
        maskCategories = true
        let features = warmupFeatures
        warmupFeatures = []
        for (k, f) in features.enumerated() { _ = detect(f, at: k + 1) }
        downsampled = config.warmup
    }

    private mutating func process(_ f: [Double]) -> Double { detect(f, at: downsampled) }

    /// The event logic: novelty, masking, and vigilance adaptation.
    private mutating func detect(_ f: [Double], at i: Int) -> Double {
        let tw = config.warmup
        let afterAnomaly = i - lastAnomaly == config.mask
        let trendDue = i - lastRhoUpdate >= tw / 2
        let maskAfter = i - lastAnomaly <= config.mask
        if i > tw + config.mask && maskCategories && stepsWithoutNew >= config.mask { maskCategories = false }
        let (a, e, novel) = train(f, learn: i >= config.window)
        stepsWithoutNew = novel ? 0 : stepsWithoutNew + 1
        similaritySum += a; similarityCount += 1
        similarityWindow.removeFirst(); similarityWindow.append(a)
        differenceWindow.removeFirst(); differenceWindow.append(rhoHigh - a)
        if i - lastAnomaly < config.mask, anomalyCount > 0, a < lastEventSimilarity {
            anomalySimilaritySum += a - lastEventSimilarity
            lastEventSimilarity = a
        }
        let masking = maskCategories || maskAfter
        let belowLast = a < lastAnomalySimilarity * (maskAfter ? 0.9 : 0.7)
        var score = 0.0
        if i > tw && novel && (!masking || belowLast) {
            let c = min(0.999, a)
            let u = ((1 - c) - (1 - rhoHigh)) / (1 - c)
            let l = ((1 - c) - (1 - rhoLow)) / (1 - c)
            score = max(0, min(1, 0.35 * u + 0.65 * l + 1.5 * (1 - e)))
            anomalySimilaritySum += a
            anomalyCount += 1
            lastEventSimilarity = a
            lastAnomalySimilarity = a
            lastAnomaly = i
        }
        maskCategories = maskCategories || novel
        if i > tw && (afterAnomaly || trendDue) {
            let minSimilarity = similarityWindow.min()!
            let ub = min(0.97, similaritySum / similarityCount)
            var lb: Double
            if rhoLow <= minSimilarity {
                lb = rhoLow + 0.19 * (minSimilarity - rhoLow)
            } else {
                var decrease = 0.0
                if i > 2 * tw {
                    let xs = differenceWindow.filter { $0 > 0.05 }.map { min(0.37, $0) }
                    if !xs.isEmpty { decrease = xs.reduce(0, +) / Double(xs.count) }
                }
                lb = rhoLow - max(0.01, decrease) / 2
                if anomalyCount > 0 { lb = max(anomalySimilaritySum / anomalyCount, lb) }
            }
            rhoLow = min(ub, lb)
            rhoHigh = ub
            lastRhoUpdate = i
            maskCategories = true
        }
        return score
    }
}

extension ShapeNoveltyDetector.Config: StateCodable {
    public func encode(to w: inout StateWriter) {
        step.encode(to: &w); stepDuration.encode(to: &w); window.encode(to: &w); warmup.encode(to: &w); levels.encode(to: &w)
        snap.encode(to: &w); mask.encode(to: &w); margin.encode(to: &w); maxCategories.encode(to: &w); threshold.encode(to: &w)
        valueRange.encodeRange(to: &w)
    }
    public static func decode(from r: inout StateReader) throws -> Self {
        var c = Self()
        c.step = try .decode(from: &r); c.stepDuration = try .decode(from: &r); c.window = try .decode(from: &r); c.warmup = try .decode(from: &r)
        c.levels = try .decode(from: &r); c.snap = try .decode(from: &r); c.mask = try .decode(from: &r)
        c.margin = try .decode(from: &r); c.maxCategories = try .decode(from: &r); c.threshold = try .decode(from: &r)
        c.valueRange = try .decodeRange(from: &r)
        return c
    }
}

extension ShapeNoveltyDetector {
    public func encode(to w: inout StateWriter) {
        config.encode(to: &w)
        step.encode(to: &w); pendingTimes.encode(to: &w); pendingValues.encode(to: &w)
        block.encode(to: &w); ema.encode(to: &w); downsampled.encode(to: &w); low.encode(to: &w); high.encode(to: &w)
        warmupValues.encode(to: &w); warmupFeatures.encode(to: &w)
        histogram.encode(to: &w); median.encode(to: &w); below.encode(to: &w); above.encode(to: &w)
        recentLevels.encode(to: &w)
        categories.encode(to: &w); categorySums.encode(to: &w); lastUsed.encode(to: &w)
        rhoLow.encode(to: &w); rhoHigh.encode(to: &w)
        lastAnomaly.encode(to: &w); lastAnomalySimilarity.encode(to: &w); lastRhoUpdate.encode(to: &w)
        maskCategories.encode(to: &w); stepsWithoutNew.encode(to: &w)
        anomalySimilaritySum.encode(to: &w); anomalyCount.encode(to: &w); lastEventSimilarity.encode(to: &w)
        similaritySum.encode(to: &w); similarityCount.encode(to: &w)
        similarityWindow.encode(to: &w); differenceWindow.encode(to: &w)
    }
    public static func decode(from r: inout StateReader) throws -> Self {
        var d = Self(config: try .decode(from: &r))
        d.step = try .decode(from: &r); d.pendingTimes = try .decode(from: &r); d.pendingValues = try .decode(from: &r)
        d.block = try .decode(from: &r); d.ema = try .decode(from: &r); d.downsampled = try .decode(from: &r)
        d.low = try .decode(from: &r); d.high = try .decode(from: &r)
        d.warmupValues = try .decode(from: &r); d.warmupFeatures = try .decode(from: &r)
        d.histogram = try .decode(from: &r); d.median = try .decode(from: &r); d.below = try .decode(from: &r); d.above = try .decode(from: &r)
        d.recentLevels = try .decode(from: &r)
        d.categories = try .decode(from: &r); d.categorySums = try .decode(from: &r); d.lastUsed = try .decode(from: &r)
        d.rhoLow = try .decode(from: &r); d.rhoHigh = try .decode(from: &r)
        d.lastAnomaly = try .decode(from: &r); d.lastAnomalySimilarity = try .decode(from: &r); d.lastRhoUpdate = try .decode(from: &r)
        d.maskCategories = try .decode(from: &r); d.stepsWithoutNew = try .decode(from: &r)
        d.anomalySimilaritySum = try .decode(from: &r); d.anomalyCount = try .decode(from: &r); d.lastEventSimilarity = try .decode(from: &r)
        d.similaritySum = try .decode(from: &r); d.similarityCount = try .decode(from: &r)
        d.similarityWindow = try .decode(from: &r); d.differenceWindow = try .decode(from: &r)
        let width = 4 * d.config.window
        guard d.histogram.count == d.config.levels + 1, d.recentLevels.count == d.config.window,
              d.categorySums.count == d.lastUsed.count, d.categories.count == d.lastUsed.count * width || d.lastUsed.isEmpty,
              d.median >= 0, d.median <= d.config.levels else {
            throw StateDecodingError("shape novelty detector: inconsistent state (\(d.lastUsed.count) categories, \(d.categories.count) weights)")
        }
        return d
    }
}
