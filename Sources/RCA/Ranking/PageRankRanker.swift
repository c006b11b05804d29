/// Personalized PageRank over the anomalous subgraph, in the manner of MicroRCA: a walker
/// starts at anomalous services in proportion to their evidence and moves along call edges
/// towards callees (where a caller's symptoms come from), weighted by the callee's evidence,
/// with a weaker step back to callers; where it lingers is the root cause.
public struct PageRankRanker: RootCauseRanker {
    public let name = "pagerank"
    /// Services with weaker evidence than this are left out of the walk.
    public var threshold: Double
    public var damping: Double
    public var backwardWeight: Double

    public init(threshold: Double = 3, damping: Double = 0.85, backwardWeight: Double = 0.2) {
        self.threshold = threshold
        self.damping = damping
        self.backwardWeight = backwardWeight
    }

    public func rank(_ input: RankingInput) -> [RankedCause] {
        let evidence = ServiceEvidence(input, threshold: threshold)
        let nodes = input.candidates.filter { evidence.strength($0) >= threshold }.sorted()
        guard !nodes.isEmpty else { return input.candidates.map { RankedCause(entity: $0, score: 0, anomalous: false) }.sortedByScore() }
        let index = Dictionary(uniqueKeysWithValues: nodes.enumerated().map { ($1, $0) })
        let weight = nodes.map { evidence.strength($0) }
        let total = weight.reduce(0, +)
        let personal = weight.map { $0 / total }
        var out = [[(Int, Double)]](repeating: [], count: nodes.count)
        for (caller, callees) in input.callees {
            guard let a = index[caller] else { continue }
            for callee in callees {
                guard let b = index[callee] else { continue }
                out[a].append((b, weight[b]))
                out[b].append((a, backwardWeight * weight[a]))
            }
        }
        for a in out.indices { out[a].append((a, weight[a] * 0.5)) }
        var rank = personal
        for _ in 0..<100 {
            var next = personal.map { (1 - damping) * $0 }
            for a in out.indices {
                let sum = out[a].reduce(0) { $0 + $1.1 }
                guard sum > 0 else { continue }
                for (b, w) in out[a] { next[b] += damping * rank[a] * w / sum }
            }
            rank = next
        }
        var ranked = nodes.enumerated().map { RankedCause(entity: $1, score: rank[$0], evidence: Array((evidence.indicators[$1] ?? []).prefix(3))) }
        for e in input.candidates where index[e] == nil { ranked.append(RankedCause(entity: e, score: -1 + evidence.strength(e) / 1000, anomalous: false)) }
        return ranked.sortedByScore()
    }
}
