import Foundation

/// The JSON bodies webhooks send.
enum WebhookBodies {
    /// Alertmanager's API v2 `POST /api/v2/alerts` body: a list of one postable alert. Labels
    /// identify the alert (Alertmanager groups and deduplicates on them); annotations carry
    /// the explanation. `endsAt` is set when the incident closed, which resolves the alert.
    static func alertmanager(_ i: RemediationIncident, entry: OutboxEntry, idempotencyKey: String) -> String {
        var labels: [String: String] = [
            "alertname": "VigilIncident",
            "vigil_policy": entry.policy,
            "vigil_incident": String(i.id),
            "severity": i.severity.rawValue,
        ]
        if let c = i.rootCause {
            labels["root_cause"] = c.entity
            labels["root_cause_kind"] = c.entityKind
        }
        if let s = i.rootCauseService { labels["service"] = s }
        for (k, v) in i.labels where labels[k] == nil && isLabelName(k) { labels[k] = v }
        var annotations: [String: String] = ["summary": i.summary, "idempotency_key": idempotencyKey]
        if let c = i.rootCause, !c.evidence.isEmpty { annotations["evidence"] = c.evidence.joined(separator: "\n") }
        if !i.anomalyKinds.isEmpty { annotations["anomaly_kinds"] = i.anomalyKinds.joined(separator: ",") }
        var alert: [String: Any] = ["labels": labels, "annotations": annotations, "startsAt": rfc3339(i.openedMs)]
        if let closed = i.closedMs { alert["endsAt"] = rfc3339(closed) }
        return json([alert])
    }

    /// The incident as `vigil incidents` prints it, with the decision.
    static func incident(_ i: RemediationIncident, entry: OutboxEntry, idempotencyKey: String) -> String {
        let incident = (try? JSONSerialization.jsonObject(with: Data(i.jsonLine.utf8))) ?? [:]
        return json(["policy": entry.policy, "decision": entry.id, "idempotency_key": idempotencyKey, "incident": incident])
    }

    /// Prometheus label names: `[a-zA-Z_][a-zA-Z0-9_]*`.
    static func isLabelName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first.properties.isAlphabetic || first == "_" else { return false }
        return s.unicodeScalars.allSatisfy { ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || $0 == "_" }
    }

    static func rfc3339(_ ms: Int64) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    static func json(_ object: Any) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
