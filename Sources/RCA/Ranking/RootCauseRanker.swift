/// What a ranker sees of an incident: the graph of the incident window, the baseline before it,
/// and the indicators that moved.
public struct RankingInput: Sendable {
    public var current: GraphWindow
    public var baseline: GraphWindow
    public var indicators: [Indicator]
    /// The entity whose alert opened the incident, when there is one.
    public var symptom: Entity?
    /// The signal that alert was about (a latency or an availability alert), when known: the
    /// cause is sought along that signal.
    public var symptomSignal: SignalFamily?

    public init(current: GraphWindow, baseline: GraphWindow, indicators: [Indicator], symptom: Entity? = nil, symptomSignal: SignalFamily? = nil) {
        self.current = current
        self.baseline = baseline
        self.indicators = indicators
        self.symptom = symptom
        self.symptomSignal = symptomSignal
    }

    /// Services (and databases or queues) that could be the cause: everything in the incident
    /// window's graph, or, when the incident has a symptom, it and everything it calls directly
    /// or further down.
    public var candidates: Set<Entity> {
        var c = Set(current.services.map(Entity.service))
        for k in current.calls.keys where k.callee.kind == .peer { c.insert(k.callee) }
        guard let symptom else { return c }
        let down = callees
        var reach: Set<Entity> = [symptom]
        var frontier = [symptom]
        while let e = frontier.popLast() {
            for n in down[e] ?? [] where reach.insert(n).inserted { frontier.append(n) }
        }
        return c.intersection(reach).union([symptom])
    }

    /// Who calls whom in the incident window and the baseline.
    public var callees: [Entity: Set<Entity>] {
        var out: [Entity: Set<Entity>] = [:]
        for k in current.calls.keys { out[k.caller, default: []].insert(k.callee) }
        for k in baseline.calls.keys { out[k.caller, default: []].insert(k.callee) }
        return out
    }
}

/// One root-cause candidate: the entity, its score (higher is likelier, comparable only within
/// one ranking), the indicators that moved on it, and the path through the graph from the
/// first symptom to it.
public struct RankedCause: Sendable, CustomStringConvertible {
    public var entity: Entity
    public var score: Double
    public var evidence: [Indicator]
    public var path: [Entity]
    /// Whether the ranker found the entity anomalous at all (the rest are ranked only so that
    /// every candidate has a place).
    public var anomalous: Bool

    public init(entity: Entity, score: Double, evidence: [Indicator] = [], path: [Entity] = [], anomalous: Bool = true) {
        self.entity = entity
        self.score = score
        self.evidence = evidence
        self.path = path
        self.anomalous = anomalous
    }

    public var description: String {
        var s = "\(entity.name) (\((score * 100).rounded() / 100))"
        if let top = evidence.first { s += ": \(top.detail)" }
        if path.count > 1 { s += " via " + path.map(\.name).joined(separator: " → ") }
        return s
    }
}

/// A method of ranking root causes. Each is a separate value so the benchmark can compare them
/// on the same incidents.
public protocol RootCauseRanker: Sendable {
    var name: String { get }
    func rank(_ input: RankingInput) -> [RankedCause]
}

extension Array where Element == RankedCause {
    /// Highest score first; ties by name so the order is reproducible.
    func sortedByScore() -> [RankedCause] {
        sorted { $0.score != $1.score ? $0.score > $1.score : $0.entity < $1.entity }
    }
}
