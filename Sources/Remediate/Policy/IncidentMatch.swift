/// Which incidents a policy acts on. Every condition that is set must hold; a list condition
/// holds when any of its values does. An empty match takes every opened or updated incident.
public struct IncidentMatch: Sendable, Equatable {
    /// Report changes taken: by default opened and updated (a closed incident needs no fix).
    public var changes: Set<String> = ["opened", "updated"]
    /// Kinds of the first-ranked cause: service, operation, pod, host, peer, log_template.
    public var rootCauseKinds: Set<String>?
    /// Glob patterns (`*` for any run of characters) over the first cause's entity name.
    public var rootCauseEntities: [String]?
    /// Any of these signals among the incident's anomalies.
    public var anomalyKinds: Set<String>?
    public var minimumSeverity: RemediationIncident.Severity?
    /// Any of these services in the incident.
    public var services: Set<String>?
    /// Every label equal (labels of the first cause's service).
    public var labels: [String: String] = [:]

    public init(changes: Set<String> = ["opened", "updated"], rootCauseKinds: Set<String>? = nil, rootCauseEntities: [String]? = nil,
                anomalyKinds: Set<String>? = nil, minimumSeverity: RemediationIncident.Severity? = nil,
                services: Set<String>? = nil, labels: [String: String] = [:]) {
        self.changes = changes
        self.rootCauseKinds = rootCauseKinds
        self.rootCauseEntities = rootCauseEntities
        self.anomalyKinds = anomalyKinds
        self.minimumSeverity = minimumSeverity
        self.services = services
        self.labels = labels
    }

    public func matches(_ i: RemediationIncident) -> Bool {
        guard changes.contains(i.change) else { return false }
        if let kinds = rootCauseKinds, !(i.rootCause.map { kinds.contains($0.entityKind) } ?? false) { return false }
        if let patterns = rootCauseEntities {
            guard let entity = i.rootCause?.entity, patterns.contains(where: { Glob.matches($0, entity) }) else { return false }
        }
        if let kinds = anomalyKinds, !i.anomalyKinds.contains(where: kinds.contains) { return false }
        if let minimumSeverity, i.severity < minimumSeverity { return false }
        if let services, !i.services.contains(where: services.contains) { return false }
        for (k, v) in labels where i.labels[k] != v { return false }
        return true
    }
}

/// Shell-style `*` wildcards, nothing else: entity names contain dots and slashes that
/// regular expressions would make a trap of.
public enum Glob {
    public static func matches(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern.utf8), t = Array(text.utf8)
        var pi = 0, ti = 0
        var star = -1, resume = 0
        while ti < t.count {
            if pi < p.count, p[pi] != UInt8(ascii: "*"), p[pi] == t[ti] {
                pi += 1; ti += 1
            } else if pi < p.count, p[pi] == UInt8(ascii: "*") {
                star = pi; resume = ti; pi += 1
            } else if star >= 0 {
                pi = star + 1; resume += 1; ti = resume
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }
}
