import Foundation

/// A value of an incident that a template can quote and a dedup key can be made of. Names are
/// those of the policy file: `incident.id`, `root_cause.entity`, `labels.team`…
public enum IncidentField: Sendable, Equatable, CustomStringConvertible {
    case incidentID, change, severity, summary, services, anomalyKinds, entities
    case rootCauseEntity, rootCauseKind, rootCauseService, rootCauseEvidence
    case label(String)
    case policy

    static let named: [String: IncidentField] = [
        "incident.id": .incidentID, "incident.change": .change, "incident.severity": .severity,
        "incident.summary": .summary, "incident.services": .services, "incident.anomaly_kinds": .anomalyKinds,
        "incident.entities": .entities, "root_cause.entity": .rootCauseEntity, "root_cause.kind": .rootCauseKind,
        "root_cause.service": .rootCauseService, "root_cause.evidence": .rootCauseEvidence, "policy.name": .policy,
    ]

    /// The field called `name`, or nil when there is none.
    public init?(name: String) {
        if name.hasPrefix("labels."), name.count > "labels.".count {
            self = .label(String(name.dropFirst("labels.".count)))
        } else if let f = Self.named[name] {
            self = f
        } else {
            return nil
        }
    }

    public static var knownNames: [String] { named.keys.sorted() + ["labels.<name>"] }

    public var description: String {
        if case .label(let l) = self { return "labels." + l }
        return Self.named.first { $0.value == self }!.key
    }

    /// The field's text for `incident` under `policy`; lists are joined by commas, and a
    /// missing value (no cause, no such label) is the empty string.
    public func value(of incident: RemediationIncident, policy: String) -> String {
        switch self {
        case .incidentID: String(incident.id)
        case .change: incident.change
        case .severity: incident.severity.rawValue
        case .summary: incident.summary
        case .services: incident.services.joined(separator: ",")
        case .anomalyKinds: incident.anomalyKinds.joined(separator: ",")
        case .entities: incident.entities.joined(separator: ",")
        case .rootCauseEntity: incident.rootCause?.entity ?? ""
        case .rootCauseKind: incident.rootCause?.entityKind ?? ""
        case .rootCauseService: incident.rootCauseService ?? ""
        case .rootCauseEvidence: incident.rootCause?.evidence.joined(separator: "; ") ?? ""
        case .label(let l): incident.labels[l] ?? ""
        case .policy: policy
        }
    }
}

/// Text with `{field}` placeholders, parsed once when the policy is loaded (an unknown field
/// is an error then, not an empty string at 3 a.m.). `{{` and `}}` are literal braces.
///
/// A rendered template is one string. For exec actions each argument is one template, so an
/// incident value lands in exactly one argument whatever it contains: no shell ever sees it.
public struct Template: Sendable, Equatable, CustomStringConvertible {
    enum Part: Sendable, Equatable { case text(String), field(IncidentField) }
    let parts: [Part]
    public let source: String

    public struct ParseError: Error, CustomStringConvertible {
        public var description: String
    }

    public init(parsing source: String) throws {
        self.source = source
        var parts: [Part] = []
        var text = ""
        var i = source.startIndex
        while i < source.endIndex {
            let c = source[i]
            let next = source.index(after: i)
            if (c == "{" || c == "}"), next < source.endIndex, source[next] == c {
                text.append(c)
                i = source.index(after: next)
                continue
            }
            if c == "}" { throw ParseError(description: "unmatched '}' in \"\(source)\" (write '}}' for a literal brace)") }
            if c == "{" {
                guard let close = source[next...].firstIndex(of: "}") else {
                    throw ParseError(description: "unclosed '{' in \"\(source)\"")
                }
                let name = source[next..<close].trimmingCharacters(in: .whitespaces)
                guard let field = IncidentField(name: name) else {
                    throw ParseError(description: "unknown field {\(name)} in \"\(source)\"; known: \(IncidentField.knownNames.joined(separator: ", "))")
                }
                if !text.isEmpty { parts.append(.text(text)); text = "" }
                parts.append(.field(field))
                i = source.index(after: close)
                continue
            }
            text.append(c)
            i = next
        }
        if !text.isEmpty { parts.append(.text(text)) }
        self.parts = parts
    }

    public func render(_ incident: RemediationIncident, policy: String) -> String {
        var out = ""
        for p in parts {
            switch p {
            case .text(let t): out += t
            case .field(let f): out += f.value(of: incident, policy: policy)
            }
        }
        return out
    }

    public var description: String { source }
}

extension Template: ExpressibleByStringLiteral {
    /// For policies written in Swift: a bad template there is a programming error.
    public init(stringLiteral value: String) {
        do { try self.init(parsing: value) } catch { preconditionFailure("\(error)") }
    }
}
