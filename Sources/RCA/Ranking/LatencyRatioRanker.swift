/// The naive ranking: the service whose operation's median latency grew the most. It is the
/// baseline the others must beat — propagation makes every caller of a slow service slow too,
/// so it tends to blame callers.
public struct LatencyRatioRanker: RootCauseRanker {
    public let name = "latency-ratio"
    public init() {}

    public func rank(_ input: RankingInput) -> [RankedCause] {
        var best: [Entity: Double] = [:]
        for (key, cur) in input.current.operations {
            guard let base = input.baseline.operations[key], let c = cur.duration.quantile(0.5), let b = base.duration.quantile(0.5) else { continue }
            let e = Entity.service(key.service)
            best[e] = max(best[e] ?? 0, (c + 1) / (b + 1))
        }
        for e in input.candidates where best[e] == nil { best[e] = 0 }
        return best.map { RankedCause(entity: $0.key, score: $0.value, anomalous: $0.value >= 2) }.sortedByScore()
    }
}
