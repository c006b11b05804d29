import Foundation
import Remediate

/// Incidents and remediation decisions as a person on call reads them.
enum IncidentReportText {
    static func text(_ i: RemediationIncident) -> String {
        let what = "\(i.anomalies) anomal\(i.anomalies == 1 ? "y" : "ies") on \(i.services.count) service\(i.services.count == 1 ? "" : "s")"
        var lines = ["", "INCIDENT \(i.id) \(i.change.uppercased()) at \(clock(i.eventTime)) — \(i.severity.rawValue), \(what): \(i.services.joined(separator: ", "))"]
        if !i.anomalyKinds.isEmpty { lines.append("  signals: \(i.anomalyKinds.joined(separator: ", "))") }
        if let c = i.rootCause {
            lines.append("  most likely cause: \(c.entity) (\(c.entityKind)), score \(String(format: "%.1f", c.score))")
            for e in c.evidence.prefix(3) { lines.append("    evidence: \(e)") }
            if c.path.count > 1 { lines.append("    path: \(c.path.joined(separator: " → "))") }
            let others = i.causes.dropFirst().prefix(3).map { "\($0.entity) (\(String(format: "%.1f", $0.score)))" }
            if !others.isEmpty { lines.append("  then: \(others.joined(separator: ", "))") }
        } else {
            lines.append("  no cause ranked yet (the graph window of the incident is not complete)")
        }
        return lines.joined(separator: "\n")
    }

    static func text(_ r: AuditRecord) -> String {
        let what: String
        switch r.event {
        case .dryRun: what = "DRY RUN"
        case .executed: what = "EXECUTED"
        case .failed: what = "FAILED"
        case .interrupted: what = "INTERRUPTED"
        case .awaitingApproval: what = "AWAITING APPROVAL"
        case .suppressed: what = "suppressed"
        default: what = r.event.rawValue.uppercased()
        }
        return "  REMEDIATION \(what) — policy \(r.policy), incident \(r.incident): \(r.detail)"
    }

    /// HH:MM:SS (UTC) of event time.
    static func clock(_ ms: Int64) -> String {
        let s = (ms / 1000) % 86_400
        return String(format: "%02d:%02d:%02d UTC", s / 3600, s / 60 % 60, s % 60)
    }
}
