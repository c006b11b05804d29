import Foundation
import Stream

/// The JSON bodies webhooks send, encoded in one pass from Codable values (no dictionary
/// round trips: rendering is on the policy engine's path for every firing).
enum WebhookBodies {
    /// One postable alert of Alertmanager's API v2 (`POST /api/v2/alerts` takes a list).
    struct PostableAlert: Encodable {
        var labels: [String: String]
        var annotations: [String: String]
        var startsAt: String
        var endsAt: String?
    }

    /// Alertmanager's body. Labels identify the alert (Alertmanager groups and deduplicates on
    /// them); annotations carry the explanation. `endsAt` is set when the incident closed,
    /// which resolves the alert.
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
        let alert = PostableAlert(labels: labels, annotations: annotations, startsAt: rfc3339(i.openedMs), endsAt: i.closedMs.map(rfc3339))
        return encode([alert], snakeCase: false)
    }

    struct IncidentBody: Encodable {
        var policy: String
        var decision: String
        var idempotencyKey: String
        var incident: RemediationIncident
    }

    /// The incident as `vigil incidents` prints it (snake_case keys), with the decision.
    static func incident(_ i: RemediationIncident, entry: OutboxEntry, idempotencyKey: String) -> String {
        encode(IncidentBody(policy: entry.policy, decision: entry.id, idempotencyKey: idempotencyKey, incident: i), snakeCase: true)
    }

    static func encode<T: Encodable>(_ value: T, snakeCase: Bool) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        if snakeCase { encoder.keyEncodingStrategy = .convertToSnakeCase }
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// Prometheus label names: `[a-zA-Z_][a-zA-Z0-9_]*`.
    static func isLabelName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first.properties.isAlphabetic || first == "_" else { return false }
        return s.unicodeScalars.allSatisfy { ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || $0 == "_" }
    }

    static func rfc3339(_ ms: Int64) -> String { TimeText.rfc3339(ms) }
}
