import Detectors
import Foundation
import Remediate
import Stream

/// How a backtest's incidents compare with the labelled windows. An incident matches a
/// window when its evidence (first to last anomaly) overlaps the window: detectors report a
/// window of data at its start, which may precede the labelled start by up to a window. A
/// window is detected by the first incident that matches it; the delay runs from the window's
/// start to that incident's first evidence (negative when the evidence starts before the label).
public struct IncidentScore: Sendable, Equatable, Codable {
    public struct WindowResult: Sendable, Equatable, Codable {
        public var name: String
        public var start: String
        public var end: String
        public var detected: Bool
        public var incident: UInt64?
        /// From the window's start to the incident's first evidence.
        public var delaySeconds: Double?
        public var expectedRootCause: String?
        /// The incident's causes as last reported, best first.
        public var rankedCauses: [String]
        /// 1-based rank of the first cause matching `expectedRootCause` (nil: not ranked).
        public var rootCauseRank: Int?
    }

    public var incidents: Int
    public var windows: Int
    public var detectedWindows: Int
    /// Incidents that opened within some window.
    public var matchingIncidents: Int
    public var precision: Double?
    public var recall: Double?
    public var f1: Double?
    public var medianDelaySeconds: Double?
    public var maxDelaySeconds: Double?
    /// Detected windows that name a root cause, and how many of them ranked it first / in the top 3.
    public var rootCauseWindows: Int
    public var rootCauseFirst: Int
    public var rootCauseTop3: Int
    public var perWindow: [WindowResult]

    /// `reports`: every report the job emitted, in order (the last one per incident counts).
    public init(reports: [RemediationIncident], windows: [LabelledWindow]) {
        let incidents = BacktestIncidents.latest(reports)
        var matched = Set<UInt64>()
        var results: [WindowResult] = []
        var delays: [Double] = []
        for w in windows {
            let hits = incidents.filter { $0.openedMs <= w.end && $0.lastEvidenceMs >= w.start }
            hits.forEach { matched.insert($0.id) }
            let first = hits.min { $0.openedMs < $1.openedMs }
            let causes = first?.causes.map(\.entity) ?? []
            let rank = w.rootCause.flatMap { pattern in causes.firstIndex { Glob.matches(pattern, $0) }.map { $0 + 1 } }
            let delay = first.map { Double($0.openedMs - w.start) / 1000 }
            if let delay { delays.append(delay) }
            results.append(WindowResult(name: w.name, start: TimeText.rfc3339(w.start), end: TimeText.rfc3339(w.end), detected: first != nil,
                                        incident: first?.id, delaySeconds: delay, expectedRootCause: w.rootCause, rankedCauses: causes,
                                        rootCauseRank: rank))
        }
        self.incidents = incidents.count
        self.windows = windows.count
        detectedWindows = results.filter(\.detected).count
        matchingIncidents = matched.count
        precision = incidents.isEmpty || windows.isEmpty ? nil : Double(matched.count) / Double(incidents.count)
        recall = windows.isEmpty ? nil : Double(detectedWindows) / Double(windows.count)
        f1 = f1Score(precision, recall)
        medianDelaySeconds = delays.isEmpty ? nil : medianOf(delays)
        maxDelaySeconds = delays.max()
        let named = results.filter { $0.detected && $0.expectedRootCause != nil }
        rootCauseWindows = named.count
        rootCauseFirst = named.filter { $0.rootCauseRank == 1 }.count
        rootCauseTop3 = named.filter { ($0.rootCauseRank ?? 99) <= 3 }.count
        perWindow = results
    }
}

/// How the metric detectors' verdicts compare with the windows that name series: per
/// (window, series) pair, whether the series flagged within the window; per flagged point,
/// whether it lay in a window of its series; and NAB's score over every series (a flagged point
/// scores 1, others 0, at threshold 0.5).
public struct DetectorScore: Sendable, Equatable, Codable {
    public var series: Int
    public var points: Int
    public var flagged: Int
    /// (window, series) pairs with points in the window, and those the series flagged in.
    public var labelledPairs: Int
    public var detectedPairs: Int
    public var flaggedInWindows: Int
    public var precision: Double?
    public var recall: Double?
    public var f1: Double?
    public var medianDelaySeconds: Double?
    /// NAB's normalised score per profile (standard, reward_low_FP_rate, reward_low_FN_rate).
    public var nab: [String: Double]?

    public init(series byKey: [String: [ScoredPoint]], windows: [LabelledWindow]) {
        let keys = byKey.keys.sorted()
        let windows = windows.filter { !$0.series.isEmpty }
        series = keys.count
        points = byKey.values.reduce(0) { $0 + $1.count }
        flagged = byKey.values.reduce(0) { $0 + $1.filter(\.isAnomaly).count }
        var pairs = 0, detected = 0, inWindows = 0
        var delays: [Double] = []
        var nabSeries: [NABSeries] = []
        var nabScores: [[Double]] = []
        for key in keys {
            let points = byKey[key]!
            let mine = windows.filter { w in w.series.contains { Glob.matches($0, key) } }
            inWindows += points.filter { p in p.isAnomaly && mine.contains { $0.contains(p.time) } }.count
            var ranges: [ClosedRange<Int>] = []
            for w in mine {
                guard let first = points.firstIndex(where: { w.contains($0.time) }),
                      let last = points.lastIndex(where: { w.contains($0.time) }) else { continue }
                pairs += 1
                ranges.append(first...last)
                if let hit = points[first...last].first(where: \.isAnomaly) {
                    detected += 1
                    delays.append(Double(hit.time - w.start) / 1000)
                }
            }
            nabSeries.append(NABSeries(name: key, timestampTexts: points.map { TimeText.rfc3339($0.time) }, times: points.map(\.time),
                                       values: points.map(\.value), windows: ranges))
            nabScores.append(points.map { $0.isAnomaly ? 1 : 0 })
        }
        labelledPairs = pairs
        detectedPairs = detected
        flaggedInWindows = inWindows
        precision = windows.isEmpty || flagged == 0 ? nil : Double(inWindows) / Double(flagged)
        recall = pairs == 0 ? nil : Double(detected) / Double(pairs)
        f1 = f1Score(precision, recall)
        medianDelaySeconds = delays.isEmpty ? nil : medianOf(delays)
        if pairs > 0 {
            let scores = NABScorer.score(series: nabSeries, anomalyScores: nabScores, threshold: 0.5)
            nab = Dictionary(uniqueKeysWithValues: scores.map { ($0.profile.name, ($0.normalized * 10).rounded() / 10) })
        }
    }
}

/// The incidents of a run as last reported, in order of opening.
public enum BacktestIncidents {
    public static func latest(_ reports: [RemediationIncident]) -> [RemediationIncident] {
        var last: [UInt64: RemediationIncident] = [:]
        for r in reports { last[r.id] = r }
        return last.values.sorted { ($0.openedMs, $0.id) < ($1.openedMs, $1.id) }
    }
}

func f1Score(_ p: Double?, _ r: Double?) -> Double? {
    guard let p, let r else { return nil }
    return p + r == 0 ? 0 : 2 * p * r / (p + r)
}

func medianOf(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}
