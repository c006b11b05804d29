import Stream

/// Settings of the root-cause operator.
public struct RCAConfig: Sendable {
    public var graph: KnowledgeGraphConfig
    public var incidents: IncidentConfig
    public var indicators: IndicatorConfig
    /// Candidates reported per incident.
    public var reportedCauses: Int

    public init(graph: KnowledgeGraphConfig = KnowledgeGraphConfig(), incidents: IncidentConfig = IncidentConfig(),
                indicators: IndicatorConfig = IndicatorConfig(), reportedCauses: Int = 5) {
        self.graph = graph
        self.incidents = incidents
        self.indicators = indicators
        self.reportedCauses = reportedCauses
    }
}

/// The knowledge graph, the incidents and what was last reported of them: the operator's
/// state, one per key (one system).
struct RCAState: StateCodable {
    var graph: KnowledgeGraph
    var tracker: IncidentTracker
    /// The first-ranked cause last reported per open incident.
    var reportedTop: [UInt64: Entity] = [:]
    /// Anomalies received but not yet grouped: each waits for the watermark to reach the time
    /// its record carries (see `RCAFunction`).
    var pending: [PendingAnomaly] = []

    func encode(to w: inout StateWriter) {
        graph.encode(to: &w); tracker.encode(to: &w); reportedTop.encode(to: &w)
        w.writeVarint(pending.count)
        for p in pending { p.release.encode(to: &w); p.event.encode(to: &w) }
    }
    static func decode(from r: inout StateReader) throws -> RCAState {
        var s = RCAState(graph: try .decode(from: &r), tracker: try .decode(from: &r), reportedTop: try .decode(from: &r))
        // Checkpoints written before anomalies waited end here.
        if !r.isAtEnd {
            for _ in 0..<(try r.readVarint()) { s.pending.append(PendingAnomaly(release: try .decode(from: &r), event: try .decode(from: &r))) }
        }
        return s
    }
}

/// An anomaly and the event time at which it is grouped.
struct PendingAnomaly: Sendable {
    var release: Int64
    var event: AnomalyEvent

    /// The order anomalies released together are grouped in: a function of their content,
    /// not of how the inputs happened to interleave.
    static func < (a: PendingAnomaly, b: PendingAnomaly) -> Bool {
        (a.release, a.event.time, a.event.entity, a.event.signal, a.event.detail, a.event.score)
            < (b.release, b.event.time, b.event.entity, b.event.signal, b.event.detail, b.event.score)
    }
}

/// The root-cause operator: feeds telemetry into the knowledge graph, groups anomalies into
/// incidents, ranks their causes as graph windows close, and reports incidents as they open,
/// change their first-ranked cause, and close. Event time throughout: windows are assembled and
/// incidents closed by event-time timers, so a replay reports what the live run did, and the
/// state (graph, incidents) is in every checkpoint.
///
/// An anomaly is not grouped when it arrives but when the watermark reaches the time its record
/// carries (a detector window's end): by then every graph window the watermark has passed is
/// assembled, whether the watermark crept there (live) or leapt (a replay reading ahead). Grouped
/// on arrival, an anomaly met whichever windows happened to be assembled, and a replay's
/// incidents and causes differed from the live run's.
///
/// The key is the system a graph describes (one cluster, one tenant); a job with one system
/// keys everything alike and runs the operator at parallelism 1.
public struct RCAFunction: KeyedProcessFunction, @unchecked Sendable {
    // @unchecked: the state handle is made in `open`, per subtask, and used by its thread only.
    public typealias Key = String
    public typealias Input = RCAInput
    public typealias Output = IncidentReport

    let config: RCAConfig
    let ranker: any RootCauseRanker
    private var state: ValueState<String, RCAState>!
    /// Per system: the graph's topology and the end of the newest window it was built from.
    /// Anomalies come in bursts; the topology changes only when a window is assembled. Not
    /// state: it is rebuilt from the graph after a restore.
    private var topologies: [String: (end: Int64, topology: GraphTopology)] = [:]

    public init(config: RCAConfig = RCAConfig(), ranker: any RootCauseRanker = EvidenceRanker()) {
        self.config = config
        self.ranker = ranker
    }

    public mutating func open(_ context: KeyedContext<String, IncidentReport>) throws {
        state = try context.valueState("rca", RCAState.self)
    }

    func fresh() -> RCAState { RCAState(graph: KnowledgeGraph(config: config.graph), tracker: IncidentTracker(config: config.incidents)) }

    public mutating func processElement(_ input: RCAInput, _ context: KeyedContext<String, IncidentReport>) throws {
        let w = config.graph.windowMillis
        // Assemble the record's window once the watermark is past it and its lateness.
        context.registerEventTimeTimer(at: input.time - input.time % w + w + config.graph.allowedLatenessMillis)
        // A record without a time is released with the anomaly's own.
        let release = context.timestamp == noTimestamp ? input.time : context.timestamp
        state.mutate(default: fresh) { s in
            switch input {
            case .span(let span): s.graph.add(span)
            case .log(let log): s.graph.add(log)
            case .metric(let metric): s.graph.add(metric)
            case .anomaly(let event):
                s.pending.append(PendingAnomaly(release: release, event: event))
            }
        }
        if case .anomaly(let event) = input {
            context.registerEventTimeTimer(at: release)
            context.registerEventTimeTimer(at: event.time + config.incidents.quietMillis)
        }
    }

    public mutating func onTimer(_ timestamp: Timestamp, domain: TimeDomain, _ context: KeyedContext<String, IncidentReport>) throws {
        var topologies = self.topologies
        let key = context.key
        let reports: [IncidentReport] = state.mutate(default: fresh) { s in
            let assembled = s.graph.advance(toWatermark: timestamp)
            var out: [IncidentReport] = []
            if !s.pending.isEmpty {
                let due = s.pending.filter { $0.release <= timestamp }.sorted(by: <)
                s.pending.removeAll { $0.release <= timestamp }
                for p in due {
                    let newest = s.graph.closed.last?.end ?? .min
                    if topologies[key]?.end != newest { topologies[key] = (newest, GraphTopology(s.graph.closed)) }
                    let change = s.tracker.observe(p.event, topology: topologies[key]!.topology)
                    if case .opened(let id) = change, let incident = s.tracker.open.first(where: { $0.id == id }) {
                        out.append(report(.opened, incident, &s))
                    }
                }
            }
            if !assembled.isEmpty {
                // New graph windows may change what the open incidents' evidence says.
                for incident in s.tracker.open {
                    let r = report(.updated, incident, &s)
                    if let top = r.causes.first?.entity, s.reportedTop[incident.id] != top {
                        s.reportedTop[incident.id] = top
                        out.append(r)
                    }
                }
            }
            for incident in s.tracker.advance(to: timestamp) {
                out.append(report(.closed, incident, &s))
                s.reportedTop[incident.id] = nil
            }
            return out
        }
        self.topologies = topologies
        for r in reports { try context.emit(r, timestamp: timestamp) }
    }

    func report(_ change: IncidentReport.Change, _ incident: Incident, _ s: inout RCAState) -> IncidentReport {
        let analysis = IncidentAnalysis(extractor: IndicatorExtractor(config: config.indicators), ranker: ranker)
        // Only candidates the ranker found anomalous: before the incident's windows are in the
        // graph, or when nothing moved, there is nothing to say, and the report says so rather
        // than naming someone at random.
        let causes = Array(analysis.rank(incident, graph: s.graph).filter { $0.anomalous && !$0.evidence.isEmpty }.prefix(config.reportedCauses))
        if change == .opened, let top = causes.first?.entity { s.reportedTop[incident.id] = top }
        return IncidentReport(change: change, incident: incident, causes: causes)
    }
}

extension DataStream where T == RCAInput {
    /// Incidents and their ranked causes from telemetry and anomalies, one knowledge graph per
    /// `system` (see `RCAFunction`).
    public func rootCauses(name: String = "root-causes", config: RCAConfig = RCAConfig(), ranker: any RootCauseRanker = EvidenceRanker(),
                           system: @escaping @Sendable (RCAInput) -> String = { _ in "system" }) -> DataStream<IncidentReport> {
        keyBy(system).process(name: name, parallelism: 1, RCAFunction(config: config, ranker: ranker))
    }
}
