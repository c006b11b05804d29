import Detectors
import RCA
import Stream

/// Mines each log line's template, per service (the key), and hands the line to the graph as a
/// log event: keyed by its code location when it has one, else by its template
/// (`LogEvent.id`). The templates are keyed state, so ids survive restarts.
public struct LogEventFunction: KeyedProcessFunction, @unchecked Sendable {
    // Made in `open`, per subtask, and used by its thread only (hence @unchecked Sendable).
    public typealias Key = String
    public typealias Input = RawLog
    public typealias Output = ObservedLog

    let minerConfig: TemplateMinerConfig
    private var miner: TemplateMiner?
    /// Events this subtask has named already (after a restart, names are sent again).
    private var named: Set<UInt64> = []
    private var templates: ValueState<String, TemplateStore>!

    public init(miner: TemplateMinerConfig = TemplateMinerConfig(similarity: 0.5, depth: 4)) {
        self.minerConfig = miner
    }

    public mutating func open(_ context: KeyedContext<String, ObservedLog>) throws {
        miner = try TemplateMiner(config: minerConfig)
        templates = try context.valueState("log-event-templates", TemplateStore.self)
    }

    public mutating func processElement(_ log: RawLog, _ context: KeyedContext<String, ObservedLog>) throws {
        let miner = self.miner!
        let template = templates.mutate(default: { TemplateStore() }) { store in
            miner.withStore(&store) { $0.add(log.text).templateID }
        }
        let event = LogEvent.id(template: template, codeLocation: log.codeLocation)
        var name: String?
        if named.count < KnowledgeGraph.maxEventNames, named.insert(event).inserted {
            let templateText = templates.mutate(default: { TemplateStore() }) { store in miner.withStore(&store) { $0.snapshot(of: template)?.text } }
            name = (log.codeLocation.isEmpty ? "" : "@\(log.codeLocation) ") + (templateText ?? log.text)
        }
        try context.emit(ObservedLog(timeNanos: log.timeNanos, service: log.service, pod: log.pod, spanID: log.spanID,
                                     templateID: event, isError: log.isError, name: name))
    }
}
