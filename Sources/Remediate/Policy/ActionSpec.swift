/// What a policy does when it fires.
public enum ActionSpec: Sendable, Equatable {
    case webhook(WebhookSpec)
    case exec(ExecSpec)
    case kafka(KafkaSpec)

    public var kind: String {
        switch self {
        case .webhook: "webhook"
        case .exec: "exec"
        case .kafka: "kafka"
        }
    }
}

/// POST the incident as JSON. Header values may name environment variables (`${env:NAME}`),
/// read when the request is sent: secrets are never in the policy, the state, the outbox or
/// the audit log.
public struct WebhookSpec: Sendable, Equatable {
    public enum Body: String, Sendable, Equatable, CaseIterable {
        /// Alertmanager's v2 API body (`POST /api/v2/alerts`): an array of postable alerts.
        case alertmanager
        /// The incident as `vigil incidents` prints it, with the policy and idempotency key.
        case incident
    }

    public var url: String
    public var body: Body
    public var headers: [String: String]
    public var timeoutMs: Int
    /// Attempts after the first, with doubling backoff from `backoffMs`.
    public var retries: Int
    public var backoffMs: Int

    public init(url: String, body: Body = .incident, headers: [String: String] = [:], timeoutMs: Int = 5000,
                retries: Int = 3, backoffMs: Int = 500) {
        self.url = url
        self.body = body
        self.headers = headers
        self.timeoutMs = timeoutMs
        self.retries = retries
        self.backoffMs = backoffMs
    }
}

/// Run a program with an argument vector: no shell. Each argument is one template, so a value
/// from an incident is one argument whatever characters it holds.
public struct ExecSpec: Sendable, Equatable {
    /// An absolute path: PATH is not searched, so what runs is what the policy names.
    public var program: String
    public var arguments: [Template]
    /// Names of this process's environment variables the program may see; nothing else is
    /// passed on.
    public var environment: [String]
    public var timeoutMs: Int

    public init(program: String, arguments: [Template] = [], environment: [String] = [], timeoutMs: Int = 30_000) {
        self.program = program
        self.arguments = arguments
        self.environment = environment
        self.timeoutMs = timeoutMs
    }
}

/// Emit the incident as JSON to a Kafka topic (through the job's Kafka sink).
public struct KafkaSpec: Sendable, Equatable {
    public var topic: String
    public var key: Template

    public init(topic: String, key: Template = "{incident.id}") {
        self.topic = topic
        self.key = key
    }
}
