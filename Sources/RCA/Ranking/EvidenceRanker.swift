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

    /// How much the evidence of the anomalous callers a candidate accounts for (on its path
    /// from the symptom) adds to its own.
    public var pathWeight: Double

    public init(threshold: Double = 3, explainShare: Double = 0.5, pathWeight: Double = 1) {
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

        var paths = SymptomPaths(symptom: input.symptom, callers: callers, strength: { strength[$0] ?? 0 }, anomalous: anomalous,
                                 canExplain: { callee, caller in caller == input.symptom || explains(callee, caller) })
        var ranked: [RankedCause] = []
        for e in input.candidates {
            let s = strength[e] ?? 0
            let path = paths.path(to: e)
            // With a symptom, a cause must reach it through anomalous services.
            let connected = input.symptom == nil || path?.first == input.symptom
            let explained = !connected || downstream(e) >= explainShare * s
            // Among the unexplained, the one whose anomalous path to the symptom carries the
            // most evidence explains the most of what was seen. A caller counts only while the
            // candidate could account for it (at least `explainShare` of its evidence): a
            // callee must not inherit a stronger caller's evidence, nor what lies above it.
            var support = 0.0
            for u in (path ?? [e]).dropLast().reversed() {
                let su = strength[u] ?? 0
                guard s >= explainShare * su else { break }
                support += su
            }
            let score = anomalous(e) ? (explained ? s / 1000 : 1000 + s + pathWeight * support) : s / 1_000_000
            ranked.append(RankedCause(entity: e, score: score, evidence: Array((evidence.indicators[e] ?? []).prefix(3)), path: path ?? [e],
                                      anomalous: anomalous(e)))
        }
        return ranked.sortedByScore()
    }
}

/// For each candidate, the path of anomalous callers above it with the most evidence, outermost
/// first: from the symptom when the incident has one (nil when no such path reaches it), else
/// from wherever the chain of anomalous callers starts. One memoised search per ranking, linear
/// in the graph: a caller's best path upwards is the same whichever callee asks. Where calls form
/// a cycle the search does not go round it, and a memoised result may then be the best path that
/// avoids the services on the stack when it was first computed — an approximation that only
/// cycles make (the exact problem, a longest simple path, is exponential).
struct SymptomPaths {
    let symptom: Entity?
    let callers: [Entity: Set<Entity>]
    let strength: (Entity) -> Double
    let anomalous: (Entity) -> Bool
    let canExplain: (_ callee: Entity, _ caller: Entity) -> Bool
    /// Per entity: the best path upwards starting at it, and its evidence (nil: none reaches
    /// the symptom).
    private var memo: [Entity: (sum: Double, path: [Entity])?] = [:]
    private var onStack: Set<Entity> = []

    init(symptom: Entity?, callers: [Entity: Set<Entity>], strength: @escaping (Entity) -> Double, anomalous: @escaping (Entity) -> Bool,
         canExplain: @escaping (Entity, Entity) -> Bool) {
        self.symptom = symptom
        self.callers = callers
        self.strength = strength
        self.anomalous = anomalous
        self.canExplain = canExplain
    }

    mutating func path(to e: Entity) -> [Entity]? {
        upward(e).map { Array($0.path.reversed()) }
    }

    private mutating func upward(_ at: Entity) -> (sum: Double, path: [Entity])? {
        if let known = memo[at] { return known }
        if at == symptom { memo[at] = (0, [at]); return (0, [at]) }
        onStack.insert(at)
        var best: (sum: Double, path: [Entity])?
        for up in (callers[at] ?? []).sorted() where !onStack.contains(up) && (anomalous(up) || up == symptom) && canExplain(at, up) {
            guard let above = upward(up) else { continue }
            let total = above.sum + strength(up)
            if best == nil || total > best!.sum { best = (total, [at] + above.path) }
        }
        onStack.remove(at)
        let result = best ?? (symptom == nil ? (0, [at]) : nil)
        memo[at] = result
        return result
    }
}
