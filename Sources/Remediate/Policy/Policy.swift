/// A remediation policy: which incidents (`match`), what to do (`actions`), and the limits
/// that keep it from doing it too often. Limits count in incident time (see
/// `RemediationIncident.eventTime`), so a replay decides what the live run decided.
public struct Policy: Sendable, Equatable {
    /// At most `count` firings within any `periodMs`.
    public struct RateLimit: Sendable, Equatable {
        public var count: Int
        public var periodMs: Int64
        public init(count: Int, periodMs: Int64) { self.count = count; self.periodMs = periodMs }
    }

    public var name: String
    public var match: IncidentMatch
    public var actions: [ActionSpec]
    /// Firings with the same key within `dedupWindowMs` are one: by default one per incident,
    /// so an incident's updates do not fire it again.
    public var dedupKey: Template
    public var dedupWindowMs: Int64
    /// Minimum time between two firings of this policy, whatever the key.
    public var cooldownMs: Int64?
    public var rateLimit: RateLimit?
    /// Decide and audit, but run nothing.
    public var dryRun: Bool
    /// When set, the actions wait for `vigil approve ID` for this long, then expire.
    public var approvalTimeoutMs: Int64?

    public init(name: String, match: IncidentMatch = IncidentMatch(), actions: [ActionSpec],
                dedupKey: Template = "{policy.name}:{incident.id}", dedupWindowMs: Int64 = 3_600_000,
                cooldownMs: Int64? = nil, rateLimit: RateLimit? = nil, dryRun: Bool = false, approvalTimeoutMs: Int64? = nil) {
        self.name = name
        self.match = match
        self.actions = actions
        self.dedupKey = dedupKey
        self.dedupWindowMs = dedupWindowMs
        self.cooldownMs = cooldownMs
        self.rateLimit = rateLimit
        self.dryRun = dryRun
        self.approvalTimeoutMs = approvalTimeoutMs
    }
}

/// Everything remediation is configured with: the policies, in order, and a catalogue of
/// labels per service (team, tier…) that incidents get from their first cause's service.
public struct RemediationConfig: Sendable, Equatable {
    public var policies: [Policy]
    public var serviceLabels: [String: [String: String]]

    public init(policies: [Policy], serviceLabels: [String: [String: String]] = [:]) {
        self.policies = policies
        self.serviceLabels = serviceLabels
    }

    /// The incident with its first cause's service labels.
    func labelled(_ incident: RemediationIncident) -> RemediationIncident {
        guard let service = incident.rootCauseService, let labels = serviceLabels[service] else { return incident }
        var i = incident
        i.labels.merge(labels) { own, _ in own }
        return i
    }
}

// MARK: - The Swift DSL

/// Policies declared in Swift:
///
///     let config = RemediationConfig {
///         Policy(name: "page-on-errors", match: IncidentMatch(minimumSeverity: .critical),
///                actions: [.webhook(WebhookSpec(url: "http://alertmanager:9093/api/v2/alerts", body: .alertmanager))])
///             .cooldown(minutes: 10)
///         Policy(name: "restart-db", match: IncidentMatch(rootCauseKinds: ["peer"]),
///                actions: [.exec(ExecSpec(program: "/usr/local/bin/restart", arguments: ["{root_cause.entity}"]))])
///             .requiringApproval(minutes: 30)
///     }
@resultBuilder
public enum PolicyBuilder {
    public static func buildExpression(_ p: Policy) -> [Policy] { [p] }
    public static func buildBlock(_ parts: [Policy]...) -> [Policy] { parts.flatMap { $0 } }
    public static func buildOptional(_ p: [Policy]?) -> [Policy] { p ?? [] }
    public static func buildEither(first p: [Policy]) -> [Policy] { p }
    public static func buildEither(second p: [Policy]) -> [Policy] { p }
    public static func buildArray(_ parts: [[Policy]]) -> [Policy] { parts.flatMap { $0 } }
}

extension RemediationConfig {
    public init(serviceLabels: [String: [String: String]] = [:], @PolicyBuilder _ policies: () -> [Policy]) {
        self.init(policies: policies(), serviceLabels: serviceLabels)
    }
}

extension Policy {
    public func cooldown(minutes: Int64) -> Policy { var p = self; p.cooldownMs = minutes * 60_000; return p }
    public func rateLimited(_ count: Int, perMinutes minutes: Int64) -> Policy {
        var p = self; p.rateLimit = RateLimit(count: count, periodMs: minutes * 60_000); return p
    }
    public func deduplicated(by key: Template, withinMinutes minutes: Int64 = 60) -> Policy {
        var p = self; p.dedupKey = key; p.dedupWindowMs = minutes * 60_000; return p
    }
    public func requiringApproval(minutes: Int64) -> Policy { var p = self; p.approvalTimeoutMs = minutes * 60_000; return p }
    public func dryRunOnly() -> Policy { var p = self; p.dryRun = true; return p }
}
