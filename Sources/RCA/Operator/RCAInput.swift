/// What the root-cause operator consumes: the job's telemetry (logs already mined into events)
/// and the anomalies detectors found.
public enum RCAInput: Sendable {
    case span(ObservedSpan)
    case log(ObservedLog)
    case metric(ObservedMetric)
    case anomaly(AnomalyEvent)

    /// Event time, milliseconds since 1970.
    public var time: Int64 {
        switch self {
        case .span(let s): Int64(s.startNanos / 1_000_000)
        case .log(let l): Int64(l.timeNanos / 1_000_000)
        case .metric(let m): Int64(m.timeNanos / 1_000_000)
        case .anomaly(let a): a.time
        }
    }
}

/// An incident as the operator reports it: when it opens, whenever its first-ranked cause
/// changes, and when it closes.
public struct IncidentReport: Sendable, CustomStringConvertible {
    public enum Change: String, Sendable { case opened, updated, closed }

    public var change: Change
    public var incident: Incident
    /// The first candidates, most likely first (empty until the graph has a window of the
    /// incident and a baseline before it).
    public var causes: [RankedCause]

    public var description: String {
        let head = "incident \(incident.id) \(change.rawValue): \(incident.events.count + incident.droppedEvents) anomalies on \(incident.entities.count) entities"
        guard let first = causes.first else { return head + "; no ranking yet" }
        return head + "; most likely cause \(first)"
    }
}
