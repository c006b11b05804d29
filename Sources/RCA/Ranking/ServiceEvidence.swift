/// Indicators gathered per candidate, with call-edge indicators split between the edge's two
/// ends: the end that is common to more of the anomalous edges around it takes more of the
/// blame (a slow network on one pod stretches every edge into it; a starved caller every edge
/// out of it).
///
/// Indicators are weighed by surprise times effect squared (`Indicator.weight`): with hundreds
/// of operations and templates, some shift with high significance when the traffic mix changes,
/// but a fault moves what it touches by a lot — a log line that vanishes from every span, a
/// call that takes 500 times as long.
struct ServiceEvidence {
    static func weight(_ i: Indicator) -> Double { i.weight }

    var indicators: [Entity: [Indicator]] = [:]

    init(_ input: RankingInput, threshold: Double) {
        var incident: [Entity: Int] = [:]
        for k in input.current.calls.keys { incident[k.caller, default: 0] += 1; incident[k.callee, default: 0] += 1 }
        var anomalousIncident: [Entity: Set<CallKey>] = [:]
        for i in input.indicators where i.kind == .callGap {
            guard let e = i.edge else { continue }
            anomalousIncident[e.caller, default: []].insert(e)
            anomalousIncident[e.callee, default: []].insert(e)
        }
        func share(_ e: Entity) -> Double { Double(anomalousIncident[e]?.count ?? 0) / Double(max(1, incident[e] ?? 1)) }
        for i in input.indicators {
            if i.kind == .callGap, let edge = i.edge {
                let a = share(edge.caller), b = share(edge.callee)
                let total = max(a + b, 1e-9)
                for (end, w) in [(edge.caller, a / total), (edge.callee, b / total)] where w > 0 {
                    var j = i
                    j.entity = end
                    j.surprise *= w
                    indicators[end, default: []].append(j)
                }
            } else {
                indicators[i.entity, default: []].append(i)
            }
        }
        // A busy pod is not a failing one: resource metrics (saturation) count in full only
        // when the service's own requests show trouble too (latency, errors, log changes).
        for (k, v) in indicators where !v.contains(where: { $0.family != .saturation && $0.family != .traffic && Self.weight($0) >= threshold }) {
            indicators[k] = v.map { i in
                guard i.family == .saturation else { return i }
                var j = i
                j.surprise *= 0.5
                return j
            }
        }
        // Equal weights break by kind and text: indicators arrive in dictionary order, which is
        // hash-seeded per process, and a replay must name the evidence the live run named.
        for (k, v) in indicators {
            indicators[k] = v.sorted { a, b in
                let (wa, wb) = (Self.weight(a), Self.weight(b))
                return wa != wb ? wa > wb : (a.kind.rawValue, a.detail) < (b.kind.rawValue, b.detail)
            }
        }
        signal = input.symptomSignal
        // When nothing moved along the alert's own signal (a short or missing history can hide
        // it), follow whatever did move rather than rank blind.
        if let family = signal, !indicators.keys.contains(where: { strength($0, family) >= threshold }) { signal = nil }
    }

    /// The incident's signal, when known: only evidence of that family ranks.
    var signal: SignalFamily?

    /// The strongest indicator's weight (of the incident's signal, when it has one).
    func strength(_ e: Entity) -> Double {
        guard let signal else { return indicators[e]?.first.map(Self.weight) ?? 0 }
        return strength(e, signal)
    }

    /// The strongest indicator's weight within one family.
    func strength(_ e: Entity, _ family: SignalFamily) -> Double {
        strongest(e, family).map(Self.weight) ?? 0
    }

    func strongest(_ e: Entity, _ family: SignalFamily) -> Indicator? {
        indicators[e]?.first { $0.family == family }
    }

    /// The family of the entity's strongest counted indicator.
    func family(_ e: Entity) -> SignalFamily? {
        signal ?? indicators[e]?.first?.family
    }
}
