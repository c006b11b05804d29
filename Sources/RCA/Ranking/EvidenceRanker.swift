/// Vigil's ranking: each candidate's evidence is its strongest indicator (call-edge indicators
/// split between the edge's ends; only the incident's signal when it has one); a candidate
/// whose callees — directly or further down through anomalous services — carry comparable
/// evidence of the same signal is a victim of propagation and is ranked after those that are
/// not. The explanation is the path of anomalous callers from the
/// outermost symptom down to the cause.
public struct EvidenceRanker: RootCauseRanker {
    public let name = "evidence"
    /// Services weaker than this are not anomalous (they neither explain nor get explained).
    public var threshold: Double
    /// A callee explains a caller when its evidence is at least this share of the caller's.
    public var explainShare: Double

    public init(threshold: Double = 3, explainShare: Double = 0.5) {
        self.threshold = threshold
        self.explainShare = explainShare
    }

    public func rank(_ input: RankingInput) -> [RankedCause] {
        let evidence = ServiceEvidence(input)
        let callees = input.callees
        var callers: [Entity: Set<Entity>] = [:]
        for (a, bs) in callees { for b in bs { callers[b, default: []].insert(a) } }
        let strength = Dictionary(uniqueKeysWithValues: input.candidates.map { ($0, evidence.strength($0)) })
        func anomalous(_ e: Entity) -> Bool { (strength[e] ?? 0) >= threshold }

        // The strongest evidence of the same signal downstream of each service, through
        // anomalous services only.
        func downstream(_ e: Entity) -> Double {
            guard let family = evidence.family(e) else { return 0 }
            var best = 0.0
            var seen: Set<Entity> = [e]
            var frontier = Array(callees[e] ?? [])
            while let c = frontier.popLast() {
                guard seen.insert(c).inserted, anomalous(c) else { continue }
                best = max(best, evidence.strength(c, family))
                frontier += callees[c] ?? []
            }
            return best
        }

        var ranked: [RankedCause] = []
        for e in input.candidates {
            let s = strength[e] ?? 0
            let explained = anomalous(e) && downstream(e) >= explainShare * s
            // Victims sort after every unexplained anomalous service, by their own evidence.
            let score = anomalous(e) ? (explained ? s / 1000 : 1000 + s) : s / 1_000_000
            ranked.append(RankedCause(entity: e, score: score, evidence: Array((evidence.indicators[e] ?? []).prefix(3)),
                                      path: symptomPath(to: e, callers: callers, anomalous: anomalous)))
        }
        return ranked.sortedByScore()
    }

    /// The chain of anomalous callers above `e`, outermost first.
    func symptomPath(to e: Entity, callers: [Entity: Set<Entity>], anomalous: (Entity) -> Bool) -> [Entity] {
        var path = [e]
        var seen: Set<Entity> = [e]
        var at = e
        while let up = (callers[at] ?? []).filter({ anomalous($0) && !seen.contains($0) }).sorted().first {
            path.append(up)
            seen.insert(up)
            at = up
        }
        return path.reversed()
    }
}
