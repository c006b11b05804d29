/// One record of a case's telemetry, replayed in time order.
public enum ReplayRecord: Sendable {
    case span(ObservedSpan)
    case log(RawLog)
    case metric(ObservedMetric)

    public var timeNanos: UInt64 {
        switch self {
        case .span(let s): s.startNanos
        case .log(let l): l.timeNanos
        case .metric(let m): m.timeNanos
        }
    }
}

/// A labelled fault: its telemetry, when the incident opened, and the true root cause.
public struct RCACase: Sendable {
    public var id: String
    /// What kind of fault it was (the per-type tables group by it).
    public var group: String
    public var rootCause: String
    /// The incident window, milliseconds since 1970. The datasets give the fault's start; the
    /// window runs from there for the fault's length.
    public var incidentStart: Int64
    public var incidentEnd: Int64
    /// Where the baseline ends, when it is not the incident's start: the window holding the
    /// fault's onset is neither normal nor the incident (PetShop analyses the bucket after it).
    public var baselineEnd: Int64?
    public var records: [ReplayRecord]
    /// The alerting entity the incident is about, when the case names one (PetShop's target);
    /// candidates are then it and what it depends on.
    public var symptom: Entity?
    public var symptomSignal: SignalFamily?
    /// The finer label inside the root-cause service, where the dataset has one (Nezha: the
    /// pair of code locations around the fault, or the metric that shows it).
    public var fineLabel: String?

    public init(id: String, group: String, rootCause: String, incidentStart: Int64, incidentEnd: Int64, records: [ReplayRecord]) {
        self.id = id
        self.group = group
        self.rootCause = rootCause
        self.incidentStart = incidentStart
        self.incidentEnd = incidentEnd
        self.records = records
    }
}
