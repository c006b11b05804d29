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

    /// How much the evidence on the path from the symptom adds to a candidate's own.
    public var pathWeight: Double

    public init(threshold: Double = 3, explainShare: Double = 0.5, pathWeight: Double = 0.5) {
        self.threshold = threshold
        self.explainShare = explainShare
        self.pathWeight = pathWeight
    }

    public func rank(_ input: RankingInput) -> [RankedCause] {
        let evidence = ServiceEvidence(input, threshold: threshold)
        let callees = input.callees
        var callers: [Entity: Set<Entity>] = [:]
        for (a, bs) in callees { for b in bs { callers[b, default: []].insert(a) } }
        let strength = Dictionary(uniqueKeysWithValues: input.candidates.map { ($0, evidence.strength($0)) })
        func anomalous(_ e: Entity) -> Bool { (strength[e] ?? 0) >= threshold }

        // Latency adds up along a call: a callee 60 ms slower cannot explain a caller 400 ms
        // slower. When the caller's evidence is a metric that moved by an amount, the callee
        // must have moved by at least `explainShare` of it on the same metric.
        func explains(_ callee: Entity, _ caller: Entity, top: Indicator?? = nil) -> Bool {
            guard let family = evidence.family(caller),
                  let top = top ?? evidence.strongest(caller, family) else { return true }
            guard family == .latency, top.kind == .metric, top.change > 0 else { return true }
            let same = evidence.indicators[callee]?.first { $0.kind == .metric && $0.metricName == top.metricName }
            return (same?.change ?? 0) >= explainShare * top.change
        }

        // The strongest evidence of the same signal downstream of each service, through
        // anomalous services only.
        func downstream(_ e: Entity) -> Double {
            guard let family = evidence.family(e) else { return 0 }
            let top = evidence.strongest(e, family)
            var best = 0.0
            var seen: Set<Entity> = [e]
            var frontier = Array(callees[e] ?? [])
            while let c = frontier.popLast() {
                guard seen.insert(c).inserted, anomalous(c) else { continue }
                if explains(c, e, top: top) { best = max(best, evidence.strength(c, family)) }
                frontier += callees[c] ?? []
            }
            return best
        }

        var ranked: [RankedCause] = []
        for e in input.candidates {
            let s = strength[e] ?? 0
            let path = symptomPath(to: e, symptom: input.symptom, callers: callers, strength: { strength[$0] ?? 0 }, anomalous: anomalous,
                                   canExplain: { callee, caller in caller == input.symptom || explains(callee, caller) })
            // With a symptom, a cause must reach it through anomalous services.
            let connected = input.symptom == nil || path?.first == input.symptom
            let explained = !connected || downstream(e) >= explainShare * s
            // Among the unexplained, the one whose anomalous path to the symptom carries the
            // most evidence explains the most of what was seen.
            let support = (path ?? [e]).dropLast().reduce(0) { $0 + (strength[$1] ?? 0) }
            let score = anomalous(e) ? (explained ? s / 1000 : 1000 + s + pathWeight * support) : s / 1_000_000
            ranked.append(RankedCause(entity: e, score: score, evidence: Array((evidence.indicators[e] ?? []).prefix(3)), path: path ?? [e],
                                      anomalous: anomalous(e)))
        }
        return ranked.sortedByScore()
    }

    /// The path of anomalous callers above `e` with the most evidence, outermost first: from the
    /// symptom when the incident has one (nil when no such path reaches it), else from wherever
    /// the chain of anomalous callers starts.
    func symptomPath(to e: Entity, symptom: Entity?, callers: [Entity: Set<Entity>], strength: (Entity) -> Double,
                     anomalous: (Entity) -> Bool, canExplain: (_ callee: Entity, _ caller: Entity) -> Bool = { _, _ in true }) -> [Entity]? {
        var best: (sum: Double, path: [Entity])?
        var path = [e]
        var onPath: Set<Entity> = [e]
        func walk(_ at: Entity, _ sum: Double) {
            let ups = (callers[at] ?? []).filter { !onPath.contains($0) && (anomalous($0) || $0 == symptom) && canExplain(at, $0) }
            let ends = symptom.map { at == $0 } ?? ups.isEmpty
            if ends, sum > best?.sum ?? -1 { best = (sum, path) }
            if at == symptom { return }
            for up in ups.sorted() {
                path.append(up)
                onPath.insert(up)
                walk(up, sum + strength(up))
                path.removeLast()
                onPath.remove(up)
            }
        }
        walk(e, 0)
        return best.map { Array($0.path.reversed()) }
    }
}
