/// Which way a metric moves when something is wrong. A latency that drops or an availability
/// that rises is not a symptom, and treating it as one sends the ranking after recoveries.
public enum MetricPolarity: Sendable {
    case higherIsWorse, lowerIsWorse, eitherWay

    /// Judged from the metric's name, as OpenTelemetry and cloud metrics name them.
    public static func of(_ name: String) -> MetricPolarity {
        let n = name.lowercased()
        for word in ["availability", "success", "apdex", "throughput_ok"] where n.contains(word) { return .lowerIsWorse }
        for word in ["latency", "duration", "error", "fail", "cpu", "memory", "retrans", "timeout", "queue", "lag", "p50", "p90", "p95", "p99"]
            where n.contains(word) { return .higherIsWorse }
        return .eitherWay
    }

    /// Whether a move of z standard deviations is in the bad direction.
    public func isBad(_ z: Double) -> Bool {
        switch self {
        case .higherIsWorse: z > 0
        case .lowerIsWorse: z < 0
        case .eitherWay: true
        }
    }
}
