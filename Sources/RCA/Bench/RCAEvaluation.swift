import Foundation

/// Where each ranker put each case's root cause, and the accuracy figures that follow.
public struct RCAEvaluation: Sendable {
    public struct CaseResult: Sendable {
        public var caseID: String
        public var group: String
        public var rootCause: String
        /// 1-based position of the root cause among distinct entities; nil when not ranked.
        public var rank: Int?
        public var top: [String]
        public var rankMillis: Double
        public var explanation: String
        /// The true root cause's strongest indicators, as ranked.
        public var rootCauseEvidence: [String]
        /// Whether the first cause is right and names the finer label too (nil: no label).
        public var fineCorrect: Bool?
    }

    public var ranker: String
    public var results: [CaseResult] = []

    public init(ranker: String) { self.ranker = ranker }

    /// Share of cases whose root cause is among the first k.
    public func accuracy(at k: Int, group: String? = nil) -> Double {
        let rs = results.filter { group == nil || $0.group == group }
        guard !rs.isEmpty else { return .nan }
        return Double(rs.filter { ($0.rank ?? .max) <= k }.count) / Double(rs.count)
    }

    /// Share of labelled cases whose first cause is right down to the finer label (nil: none
    /// labelled).
    public func fineAccuracy(group: String? = nil) -> Double? {
        let labelled = results.filter { (group == nil || $0.group == group) && $0.fineCorrect != nil }
        guard !labelled.isEmpty else { return nil }
        return Double(labelled.filter { $0.fineCorrect == true }.count) / Double(labelled.count)
    }

    /// Mean of AC@1 … AC@5.
    public func average5(group: String? = nil) -> Double {
        (1...5).map { accuracy(at: $0, group: group) }.reduce(0, +) / 5
    }

    public var groups: [String] { Array(Set(results.map(\.group))).sorted() }

    /// Ranks the case with `ranker` and records where the root cause landed.
    public mutating func add(_ c: RCACase, input: RankingInput, ranker: some RootCauseRanker) {
        let t0 = DispatchTime.now().uptimeNanoseconds
        let ranking = ranker.rank(input)
        let ms = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
        var names: [String] = []
        for r in ranking where !names.contains(r.entity.name) { names.append(r.entity.name) }
        let rank = names.firstIndex(of: c.rootCause).map { $0 + 1 }
        results.append(CaseResult(caseID: c.id, group: c.group, rootCause: c.rootCause, rank: rank, top: Array(names.prefix(5)),
                                  rankMillis: ms, explanation: ranking.first.map(\.description) ?? "",
                                  rootCauseEvidence: ranking.first { $0.entity.name == c.rootCause }?.evidence.map(\.description) ?? [],
                                  fineCorrect: c.fineLabel.map { label in rank == 1 && ranking.first.map { FineLabel.matches(label, $0) } == true }))
    }

    /// One line per group and one for all: cases, AC@1, AC@3, AC@5, Avg@5.
    public func table() -> String {
        func row(_ label: String, _ g: String?) -> String {
            let n = results.filter { g == nil || $0.group == g }.count
            return label.padding(toLength: 24, withPad: " ", startingAt: 0) + String(format: "%5d  %5.3f  %5.3f  %5.3f  %5.3f", n,
                accuracy(at: 1, group: g), accuracy(at: 3, group: g), accuracy(at: 5, group: g), average5(group: g))
                + (fineAccuracy(group: g).map { String(format: "   %5.3f", $0) } ?? "")
        }
        var lines = ["\(ranker)".padding(toLength: 24, withPad: " ", startingAt: 0) + "cases   AC@1   AC@3   AC@5  Avg@5" + (fineAccuracy() == nil ? "" : "   fine AC@1")]
        for g in groups { lines.append(row("  " + g, g)) }
        lines.append(row("  all", nil))
        return lines.joined(separator: "\n")
    }
}
