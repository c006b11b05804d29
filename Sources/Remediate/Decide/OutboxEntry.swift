/// One decision of the policy engine about one incident and one policy, with every action it
/// plans already rendered: what the outbox holds, what the dispatcher executes once the
/// checkpoint that contains it completes, and what the audit log quotes. Rendering at decision
/// time means an approval shows exactly what will run, and a replay renders the same.
public struct OutboxEntry: Codable, Sendable, Equatable {
    public enum Outcome: String, Codable, Sendable {
        case scheduled
        case dryRun = "dry_run"
        case awaitingApproval = "awaiting_approval"
        case suppressedDedup = "suppressed_dedup"
        case suppressedCooldown = "suppressed_cooldown"
        case suppressedRateLimit = "suppressed_rate_limit"

        public var isSuppressed: Bool { rawValue.hasPrefix("suppressed") }
    }

    /// Unique across runs: "<epoch>-<sequence>" (see `PolicyState.epoch`). Also the approval id.
    public var id: String
    public var policy: String
    public var incidentID: UInt64
    public var change: String
    /// The incident's event time.
    public var time: Int64
    public var dedupKey: String
    public var outcome: Outcome
    /// Why, in words: "cooldown 10m: fired at … for incident 7".
    public var reason: String
    public var actions: [PlannedAction]
    public var approvalTimeoutMs: Int64?
}

/// An action with its inputs fixed.
public struct PlannedAction: Codable, Sendable, Equatable {
    public struct Webhook: Codable, Sendable, Equatable {
        public var url: String
        public var body: String
        /// Values may hold `${env:NAME}` references, resolved only when sending.
        public var headers: [String: String]
        public var timeoutMs: Int
        public var retries: Int
        public var backoffMs: Int
    }

    public struct Exec: Codable, Sendable, Equatable {
        public var program: String
        public var arguments: [String]
        public var environment: [String]
        public var timeoutMs: Int
    }

    public struct Kafka: Codable, Sendable, Equatable {
        public var topic: String
        public var key: String
        public var value: String
    }

    public var index: Int
    /// The same for every attempt of this action, across crashes and restarts.
    public var idempotencyKey: String
    public var webhook: Webhook?
    public var exec: Exec?
    public var kafka: Kafka?

    public var kind: String { webhook != nil ? "webhook" : exec != nil ? "exec" : "kafka" }

    /// One line for the audit log and `vigil approve --list`: no secrets (headers are named,
    /// not shown; they hold only references anyway).
    public var summary: String {
        if let w = webhook { return "POST \(w.url)" + (w.headers.isEmpty ? "" : " with headers \(w.headers.keys.sorted().joined(separator: ", "))") }
        if let e = exec { return "exec \(([e.program] + e.arguments).map(quoted).joined(separator: " "))" }
        if let k = kafka { return "produce to \(k.topic) key \(k.key)" }
        return "nothing"
    }

    private func quoted(_ s: String) -> String {
        s.allSatisfy({ $0.isLetter || $0.isNumber || "-_./:=@,".contains($0) }) && !s.isEmpty ? s : "\"" + s.unicodeScalars.map { $0.escaped(asASCII: true) }.joined() + "\""
    }
}
