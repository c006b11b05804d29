/// Ranks the root causes of an incident from the knowledge graph: the windows since the
/// incident opened against the windows before it.
public struct IncidentAnalysis: Sendable {
    public var extractor: IndicatorExtractor
    public var ranker: any RootCauseRanker
    /// How far before the first evidence the incident window starts (faults start before the
    /// detectors notice them).
    public var leadMillis: Int64

    public init(extractor: IndicatorExtractor = IndicatorExtractor(), ranker: any RootCauseRanker = EvidenceRanker(), leadMillis: Int64 = 60_000) {
        self.extractor = extractor
        self.ranker = ranker
        self.leadMillis = leadMillis
    }

    /// The inputs the ranker sees for the incident, or nil when the graph has no baseline
    /// before it or nothing in it yet.
    public func input(for incident: Incident, graph: KnowledgeGraph, symptom: Entity? = nil) -> RankingInput? {
        let start = incident.opened - leadMillis
        // Up to as long after the last evidence as before the first: an incident closes only
        // after a quiet period, and the recovery is not evidence.
        let end = incident.lastEvidence + leadMillis
        guard let current = graph.window(from: start, to: end),
              let baseline = GraphWindow.merged(graph.closed.filter { $0.end <= start }) else { return nil }
        var extractor = self.extractor
        if extractor.templateNames.isEmpty { extractor.templateNames = graph.eventNames }
        return RankingInput(current: current, baseline: baseline, indicators: extractor.indicators(current: current, baseline: baseline), symptom: symptom)
    }

    public func rank(_ incident: Incident, graph: KnowledgeGraph, symptom: Entity? = nil) -> [RankedCause] {
        input(for: incident, graph: graph, symptom: symptom).map(ranker.rank) ?? []
    }
}
