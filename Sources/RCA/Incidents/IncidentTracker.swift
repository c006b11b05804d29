import Stream

/// How anomalies are grouped into incidents.
public struct IncidentConfig: Sendable, Equatable {
    /// An anomaly joins an open incident whose latest evidence is at most this old...
    public var joinWithinMillis: Int64
    /// ...and whose entities are within this many graph links of the anomaly's entity.
    public var maxHops: Int
    /// An incident with no new evidence for this long closes.
    public var quietMillis: Int64
    /// Evidence kept per incident (the rest is counted): bounds memory in a storm.
    public var maxEvents: Int

    public init(joinWithinMillis: Int64 = 120_000, maxHops: Int = 2, quietMillis: Int64 = 300_000, maxEvents: Int = 500) {
        self.joinWithinMillis = joinWithinMillis
        self.maxHops = maxHops
        self.quietMillis = quietMillis
        self.maxEvents = maxEvents
    }
}

/// What happened to the incidents when an anomaly arrived.
public enum IncidentChange: Sendable, Equatable {
    case opened(UInt64)
    case updated(UInt64)
    /// The anomaly connected open incidents: they are one now, under the oldest's id.
    case merged(into: UInt64, from: [UInt64])
}

/// Groups anomaly events into incidents: an event joins the open incidents it is close to in
/// time and in the graph (merging them when it bridges several), or opens a new one; an
/// incident closes after a quiet period. Time is event time, so replays group as live runs do.
public struct IncidentTracker: Sendable {
    public let config: IncidentConfig
    public private(set) var open: [Incident] = []
    var nextID: UInt64 = 1

    public init(config: IncidentConfig = IncidentConfig()) {
        self.config = config
    }

    public mutating func observe(_ event: AnomalyEvent, topology: GraphTopology) -> IncidentChange {
        let joined = open.indices.filter { i in
            event.time - open[i].lastEvidence <= config.joinWithinMillis
                && event.time >= open[i].opened - config.joinWithinMillis
                && topology.isNear(event.entity, open[i].entities, hops: config.maxHops)
        }
        guard let first = joined.first else {
            let id = nextID
            nextID += 1
            open.append(Incident(id: id, opened: event.time, lastEvidence: event.time, entities: [event.entity], events: [event]))
            return .opened(id)
        }
        var target = open[first]
        for i in joined.dropFirst() {
            let other = open[i]
            target.opened = min(target.opened, other.opened)
            target.lastEvidence = max(target.lastEvidence, other.lastEvidence)
            target.entities.formUnion(other.entities)
            target.events = Array((target.events + other.events).sorted { $0.time < $1.time })
            target.droppedEvents += other.droppedEvents
        }
        target.entities.insert(event.entity)
        target.opened = min(target.opened, event.time)
        target.lastEvidence = max(target.lastEvidence, event.time)
        target.events.append(event)
        if target.events.count > config.maxEvents {
            target.droppedEvents += target.events.count - config.maxEvents
            target.events.removeFirst(target.events.count - config.maxEvents)
        }
        let mergedIDs = joined.dropFirst().map { open[$0].id }
        open[first] = target
        for i in joined.dropFirst().reversed() { open.remove(at: i) }
        return mergedIDs.isEmpty ? .updated(target.id) : .merged(into: target.id, from: mergedIDs)
    }

    /// Closes the incidents quiet since before `time - quietMillis` and returns them.
    public mutating func advance(to time: Int64) -> [Incident] {
        var closed: [Incident] = []
        open.removeAll { incident in
            guard time - incident.lastEvidence >= config.quietMillis else { return false }
            var done = incident
            done.closed = incident.lastEvidence + config.quietMillis
            closed.append(done)
            return true
        }
        return closed
    }
}

extension IncidentTracker: StateCodable {
    public func encode(to w: inout StateWriter) {
        config.joinWithinMillis.encode(to: &w); config.maxHops.encode(to: &w); config.quietMillis.encode(to: &w); config.maxEvents.encode(to: &w)
        open.encode(to: &w); nextID.encode(to: &w)
    }
    public static func decode(from r: inout StateReader) throws -> IncidentTracker {
        let config = IncidentConfig(joinWithinMillis: try .decode(from: &r), maxHops: try .decode(from: &r), quietMillis: try .decode(from: &r), maxEvents: try .decode(from: &r))
        var t = IncidentTracker(config: config)
        t.open = try .decode(from: &r)
        t.nextID = try .decode(from: &r)
        return t
    }
}
