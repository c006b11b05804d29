/// One thing that moved in the incident window against the baseline, with how surprising it
/// is: the evidence rankers weigh and incidents show.
public struct Indicator: Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable, CaseIterable {
        /// An operation's latency.
        case latency
        /// An operation's own time (latency minus its children's).
        case selfTime = "self_time"
        /// Caller's span minus callee's span on a call edge: network, queues, a starved caller.
        case callGap = "call_gap"
        /// Failed spans of an operation or call edge.
        case errors
        /// A log template now present in more or fewer of an operation's spans.
        case logPresence = "log_presence"
        /// What usually follows a log line in a span no longer does (or a new step appears).
        case logSequence = "log_sequence"
        /// A template never seen in the baseline.
        case newTemplate = "new_template"
        /// A metric of the entity (or of its pod or host).
        case metric
    }

    public var kind: Kind
    /// The service (or peer) the indicator is about.
    public var entity: Entity
    /// For call-edge indicators: the edge, whose two ends share the blame until one is shown
    /// to be common to several.
    public var edge: CallKey?
    /// −log₁₀ of the probability of a move this large under the baseline.
    public var surprise: Double
    /// Current over baseline of the measured quantity (>1 up, <1 down).
    public var ratio: Double
    /// How much of the behaviour changed, in [0, 1], whatever the sample size: the change in
    /// the share of spans that log a line (or take a path), the share of calls that fail, or
    /// the order of magnitude of a latency change. A fault changes nearly every request that
    /// passes through it; a shift in the traffic mix changes some.
    public var effect: Double
    /// What moved, in words: "latency p50 ×8.1 (12 ms → 97 ms)".
    public var detail: String
    /// For `.metric`: the metric's name, and how far it moved in its own unit (current minus
    /// baseline).
    public var metricName = ""
    public var change = 0.0
    /// For log indicators: the code locations involved ("logger#line", or "<operation> start").
    public var codeLocations: [String] = []

    public init(kind: Kind, entity: Entity, edge: CallKey? = nil, surprise: Double, ratio: Double, effect: Double = 1, detail: String) {
        self.kind = kind
        self.entity = entity
        self.edge = edge
        self.surprise = surprise
        self.ratio = ratio
        self.effect = min(1, max(0, effect))
        self.detail = detail
    }

    /// Which golden signal the indicator is about.
    public var family: SignalFamily {
        switch kind {
        case .latency, .selfTime, .callGap: .latency
        case .errors, .logPresence, .logSequence, .newTemplate: .errors
        case .metric: SignalFamily.of(metric: metricName)
        }
    }

    /// Surprise weighted by the square of the effect: what rankers compare.
    public var weight: Double { surprise * effect * effect }

    public var description: String {
        "\(entity.name): \(detail) [\(kind.rawValue), S=\((surprise * 10).rounded() / 10)]"
    }
}

/// The golden signals: symptoms propagate within a family (a slow callee makes its callers
/// slow; a failing one makes them fail), so a caller's evidence is explained only by a callee's
/// evidence of the same family.
public enum SignalFamily: String, Sendable, CaseIterable {
    case latency, errors, saturation, traffic

    /// A metric's family from its name.
    public static func of(metric name: String) -> SignalFamily {
        let n = name.lowercased()
        if ["cpu", "memory", "network", "syscall", "disk", "bytes", "gc"].contains(where: n.contains) { return .saturation }
        if ["availability", "success", "error", "fail"].contains(where: n.contains) { return .errors }
        if ["latency", "duration", "p50", "p90", "p95", "p99"].contains(where: n.contains) { return .latency }
        if ["request", "workload", "ops", "throughput", "rate"].contains(where: n.contains) { return .traffic }
        return .saturation
    }
}
