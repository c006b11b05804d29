import RCA

/// An incident as policies see it and as `vigil incidents` prints it: plain fields (names,
/// kinds, numbers), so that a policy file can match on them, a template can quote them, and a
/// JSON line of `vigil incidents` output can be read back as one.
public struct RemediationIncident: Codable, Sendable, Equatable {
    public enum Severity: String, Codable, Sendable, Comparable, CaseIterable {
        case info, warning, critical

        var rank: Int { Severity.allCases.firstIndex(of: self)! }
        public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
    }

    public struct Cause: Codable, Sendable, Equatable {
        public var entity: String
        public var entityKind: String
        public var score: Double
        public var evidence: [String]
        public var path: [String]

        public init(entity: String, entityKind: String, score: Double = 1, evidence: [String] = [], path: [String] = []) {
            self.entity = entity
            self.entityKind = entityKind
            self.score = score
            self.evidence = evidence
            self.path = path
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(entity: try c.decode(String.self, forKey: .entity), entityKind: try c.decode(String.self, forKey: .entityKind),
                      score: try c.decodeIfPresent(Double.self, forKey: .score) ?? 1,
                      evidence: try c.decodeIfPresent([String].self, forKey: .evidence) ?? [],
                      path: try c.decodeIfPresent([String].self, forKey: .path) ?? [])
        }
    }

    /// opened, updated (the first cause changed) or closed.
    public var change: String
    public var id: UInt64
    public var openedMs: Int64
    public var lastEvidenceMs: Int64
    public var closedMs: Int64?
    public var severity: Severity
    public var anomalies: Int
    /// The signals that moved, each once, sorted: "p99_ms", "error_ratio", "new_template"…
    public var anomalyKinds: [String]
    /// The first anomalies, "entity signal" (at most 20).
    public var firstAnomalies: [String]
    public var entities: [String]
    public var services: [String]
    /// Most likely first; empty when nothing was ranked.
    public var causes: [Cause]
    /// Labels of the first cause's service, from the policy file's service catalogue.
    public var labels: [String: String]
    public var summary: String

    public var rootCause: Cause? { causes.first }
    /// The incident's own time: when its latest evidence arrived (or it closed). Cooldowns and
    /// rate limits count in this time, so a replay decides what the live run decided.
    public var eventTime: Int64 { closedMs ?? lastEvidenceMs }

    public init(change: String, id: UInt64, openedMs: Int64, lastEvidenceMs: Int64, closedMs: Int64? = nil,
                severity: Severity? = nil, anomalies: Int, anomalyKinds: [String], firstAnomalies: [String] = [],
                entities: [String], services: [String], causes: [Cause], labels: [String: String] = [:], summary: String = "") {
        self.change = change
        self.id = id
        self.openedMs = openedMs
        self.lastEvidenceMs = lastEvidenceMs
        self.closedMs = closedMs
        self.anomalies = anomalies
        self.anomalyKinds = anomalyKinds
        self.firstAnomalies = firstAnomalies
        self.entities = entities
        self.services = services
        self.causes = causes
        self.labels = labels
        self.summary = summary
        self.severity = severity ?? Self.severity(anomalyKinds: anomalyKinds, services: services.count)
    }

    /// Requests failing (error ratio, error bursts in logs) or trouble on three services or
    /// more is critical; slowness or a new log line on fewer is a warning.
    public static func severity(anomalyKinds: [String], services: Int) -> Severity {
        let failing = anomalyKinds.contains { $0.hasPrefix("error") }
        return failing || services >= 3 ? .critical : .warning
    }
}

extension RemediationIncident {
    enum CodingKeys: String, CodingKey {
        case change, id, openedMs, lastEvidenceMs, closedMs, severity, anomalies, anomalyKinds, firstAnomalies
        case entities, services, causes, labels, summary
    }

    /// An incident needs its identity (change, id, times); the rest may be missing (an
    /// incident written by hand or by another tool) and is empty then, with the severity
    /// derived as usual.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let kinds = try c.decodeIfPresent([String].self, forKey: .anomalyKinds) ?? []
        let services = try c.decodeIfPresent([String].self, forKey: .services) ?? []
        self.init(change: try c.decode(String.self, forKey: .change), id: try c.decode(UInt64.self, forKey: .id),
                  openedMs: try c.decode(Int64.self, forKey: .openedMs), lastEvidenceMs: try c.decode(Int64.self, forKey: .lastEvidenceMs),
                  closedMs: try c.decodeIfPresent(Int64.self, forKey: .closedMs),
                  severity: try c.decodeIfPresent(Severity.self, forKey: .severity),
                  anomalies: try c.decodeIfPresent(Int.self, forKey: .anomalies) ?? 0, anomalyKinds: kinds,
                  firstAnomalies: try c.decodeIfPresent([String].self, forKey: .firstAnomalies) ?? [],
                  entities: try c.decodeIfPresent([String].self, forKey: .entities) ?? [], services: services,
                  causes: try c.decodeIfPresent([Cause].self, forKey: .causes) ?? [],
                  labels: try c.decodeIfPresent([String: String].self, forKey: .labels) ?? [:],
                  summary: try c.decodeIfPresent(String.self, forKey: .summary) ?? "")
        guard ["opened", "updated", "closed"].contains(change) else {
            throw DecodingError.dataCorruptedError(forKey: .change, in: c, debugDescription: "change '\(change)' is none of opened, updated, closed")
        }
    }

    /// The report of the root-cause operator, in plain fields.
    public init(_ r: IncidentReport) {
        let kinds = Set(r.incident.events.map(\.signal)).sorted()
        let services = Set(r.incident.entities.filter { $0.kind == .service }.map(\.name)).sorted()
        self.init(change: r.change.rawValue, id: r.incident.id, openedMs: r.incident.opened, lastEvidenceMs: r.incident.lastEvidence,
                  closedMs: r.incident.closed, anomalies: r.incident.events.count + r.incident.droppedEvents, anomalyKinds: kinds,
                  firstAnomalies: r.incident.events.prefix(20).map { "\($0.entity.name) \($0.signal)" },
                  entities: r.incident.entities.sorted().map(\.name), services: services,
                  causes: r.causes.map { Cause(entity: $0.entity.name, entityKind: $0.entity.kind.label, score: $0.score,
                                               evidence: $0.evidence.map(\.description), path: $0.path.map(\.name)) },
                  summary: r.description)
    }

    /// The first cause's service: the entity itself when it is one, else the service an
    /// operation belongs to ("service operation"), else the entity's name.
    public var rootCauseService: String? {
        guard let c = rootCause else { return nil }
        if c.entityKind == "operation", let space = c.entity.firstIndex(of: " ") { return String(c.entity[..<space]) }
        return c.entity
    }
}
