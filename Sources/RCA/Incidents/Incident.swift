import Stream

/// A group of anomalies close in time and connected in the graph: one thing going wrong, as
/// the on-call engineer should see it.
public struct Incident: Sendable, Equatable {
    public var id: UInt64
    /// Milliseconds since 1970: the first evidence, the latest, and when it closed (nil: open).
    public var opened: Int64
    public var lastEvidence: Int64
    public var closed: Int64?
    public var entities: Set<Entity>
    /// The evidence, oldest first; at most the tracker's `maxEvents` (the rest are counted).
    public var events: [AnomalyEvent]
    public var droppedEvents = 0

    public var isOpen: Bool { closed == nil }
}

extension Incident: StateCodable {
    public func encode(to w: inout StateWriter) {
        id.encode(to: &w); opened.encode(to: &w); lastEvidence.encode(to: &w); closed.encode(to: &w)
        entities.encode(to: &w); events.encode(to: &w); droppedEvents.encode(to: &w)
    }
    public static func decode(from r: inout StateReader) throws -> Incident {
        var i = Incident(id: try .decode(from: &r), opened: try .decode(from: &r), lastEvidence: try .decode(from: &r), closed: try .decode(from: &r),
                         entities: try .decode(from: &r), events: try .decode(from: &r))
        i.droppedEvents = try .decode(from: &r)
        return i
    }
}
