import Stream

/// One anomaly reported by a detector — a metric, a RED series, a log anomaly, an eBPF or
/// profiler signal — about an entity of the graph: what incidents are made of.
public struct AnomalyEvent: Sendable, Equatable {
    /// Event time, milliseconds since 1970.
    public var time: Int64
    public var entity: Entity
    /// What moved: "latency_p99", "error_ratio", "new_template", "tcp_retransmits".
    public var signal: String
    /// The detector's score in [0, 1].
    public var score: Double
    public var detail: String

    public init(time: Int64, entity: Entity, signal: String, score: Double, detail: String = "") {
        self.time = time
        self.entity = entity
        self.signal = signal
        self.score = score
        self.detail = detail
    }
}

extension AnomalyEvent: StateCodable {
    public func encode(to w: inout StateWriter) {
        time.encode(to: &w); entity.encode(to: &w); signal.encode(to: &w); score.encode(to: &w); detail.encode(to: &w)
    }
    public static func decode(from r: inout StateReader) throws -> AnomalyEvent {
        AnomalyEvent(time: try .decode(from: &r), entity: try .decode(from: &r), signal: try .decode(from: &r), score: try .decode(from: &r), detail: try .decode(from: &r))
    }
}
