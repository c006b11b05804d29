import Detectors

/// Replays a case's telemetry in time order through the template miner and the knowledge graph,
/// as the live job would, and returns what the rankers see when the incident opens: the
/// incident window against the windows before it.
public struct RCAReplay {
    public var graphConfig: KnowledgeGraphConfig
    public var indicatorConfig: IndicatorConfig
    public var minerConfig: TemplateMinerConfig

    public init(graphConfig: KnowledgeGraphConfig = KnowledgeGraphConfig(windowMillis: 10_000, retainedWindows: 1_000, allowedLatenessMillis: 5_000),
                indicatorConfig: IndicatorConfig = IndicatorConfig(),
                minerConfig: TemplateMinerConfig = TemplateMinerConfig(similarity: 0.5, depth: 4)) {
        self.graphConfig = graphConfig
        self.indicatorConfig = indicatorConfig
        self.minerConfig = minerConfig
    }

    public func run(_ c: RCACase) throws -> RankingInput {
        var graph = KnowledgeGraph(config: graphConfig)
        let miner = try TemplateMiner(config: minerConfig)
        var eventNames: [UInt64: (template: UInt64, location: String)] = [:]
        for record in c.records {
            switch record {
            case .span(let s): graph.add(s)
            case .metric(let m): graph.add(m)
            case .log(let l):
                let match = miner.add(l.text)
                let event = LogEvent.id(template: match.templateID, codeLocation: l.codeLocation)
                if event != match.templateID, eventNames[event] == nil { eventNames[event] = (match.templateID, l.codeLocation) }
                graph.add(ObservedLog(timeNanos: l.timeNanos, service: l.service, pod: l.pod, spanID: l.spanID, templateID: event, isError: l.isError))
            }
            graph.advance(toWatermark: Int64(record.timeNanos / 1_000_000) - graphConfig.allowedLatenessMillis)
        }
        graph.flush()
        let current = GraphWindow.merged(graph.closed.filter { $0.end > c.incidentStart && $0.start < c.incidentEnd })
            ?? GraphWindow(start: c.incidentStart, end: c.incidentEnd)
        let baselineEnd = c.baselineEnd ?? c.incidentStart
        let baseline = GraphWindow.merged(graph.closed.filter { $0.end <= baselineEnd })
            ?? GraphWindow(start: baselineEnd, end: baselineEnd)
        var names = Dictionary(miner.allTemplates.map { ($0.id, $0.text) }, uniquingKeysWith: { a, _ in a })
        for (event, source) in eventNames { names[event] = "@\(source.location) " + (names[source.template] ?? "template \(source.template)") }
        var extractor = IndicatorExtractor(config: indicatorConfig, templateNames: names)
        extractor.codeLocations = eventNames.mapValues(\.location)
        return RankingInput(current: current, baseline: baseline, indicators: extractor.indicators(current: current, baseline: baseline), symptom: c.symptom, symptomSignal: c.symptomSignal)
    }
}
