import Foundation
import Yams

/// Remediation configured in YAML (the reference is `docs/remediation.md`):
///
///     services:
///       ts-order-service: {team: orders}
///     policies:
///       - name: restart-on-db-latency
///         match: {root_cause_kind: peer, anomaly_kinds: [p99_ms]}
///         cooldown: 10m
///         approval: {timeout: 30m}
///         actions:
///           - exec: {program: /usr/local/bin/restart, args: ["{root_cause.entity}"]}
///
/// Loading checks everything it can before the job starts: unknown keys, types, durations,
/// template fields, URLs, that exec programs are absolute paths to executables, and that
/// policy names are unique. Every problem is reported with its line.
public enum PolicyFile {
    public static func load(path: String) throws -> RemediationConfig {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ConfigError([ConfigProblem(file: path, line: 1, reason: "cannot read the file: \(error.localizedDescription)")])
        }
        return try parse(text, file: path)
    }

    public static func parse(_ text: String, file: String) throws -> RemediationConfig {
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch {
            throw ConfigError([ConfigProblem(file: file, line: yamlErrorLine(error), reason: "not valid YAML: \(yamlErrorReason(error))")])
        }
        guard let root else { throw ConfigError([ConfigProblem(file: file, line: 1, reason: "the file is empty; it needs a 'policies' list")]) }
        let fields = YAMLFields(file: file)
        let config = read(root, fields)
        if !fields.problems.isEmpty { throw ConfigError(fields.problems) }
        return config!
    }

    /// The remediation section of a larger file (`vigil.yaml`): problems go to `fields`.
    public static func read(_ root: Node, _ f: YAMLFields) -> RemediationConfig? {
        guard let top = f.mapping(root, "the remediation config", allowed: ["services", "policies"]) else { return nil }
        var services: [String: [String: String]] = [:]
        var policies: [Policy] = []
        var sawPolicies = false
        for (key, _, value) in top {
            switch key {
            case "services":
                guard case .mapping(let m) = value else { f.problem(value, "services must map service names to their labels"); continue }
                for (k, v) in m {
                    guard let name = f.string(k, "a service name"), let labels = f.stringMap(v, "labels of \(name)") else { continue }
                    services[name] = labels
                }
            case "policies":
                sawPolicies = true
                guard case .sequence(let seq) = value else { f.problem(value, "policies must be a list"); continue }
                var names: [String: Int] = [:]
                for item in seq {
                    guard let p = policy(item, f) else { continue }
                    if let line = names[p.name] {
                        f.problem(item, "a second policy named '\(p.name)' (the first is on line \(line)); names key the audit log and must be unique")
                    }
                    names[p.name] = item.mark?.line ?? 0
                    policies.append(p)
                }
            default: break
            }
        }
        if !sawPolicies { f.problem(root, "no 'policies' list") }
        return RemediationConfig(policies: policies, serviceLabels: services)
    }

    static func policy(_ node: Node, _ f: YAMLFields) -> Policy? {
        let allowed: Set<String> = ["name", "match", "actions", "dedup_key", "dedup_window", "cooldown", "rate_limit", "dry_run", "approval"]
        guard let entries = f.mapping(node, "a policy", allowed: allowed) else { return nil }
        let before = f.problems.count
        var p = Policy(name: "", actions: [])
        var hasName = false, hasActions = false
        for (key, _, value) in entries {
            switch key {
            case "name":
                if let s = f.string(value, "name") {
                    if s.isEmpty || s.contains(where: { $0.isWhitespace || $0 == "/" }) {
                        f.problem(value, "name '\(s)' must be non-empty, without spaces or '/'")
                    }
                    p.name = s; hasName = true
                }
            case "match": if let m = match(value, f) { p.match = m }
            case "actions":
                hasActions = true
                guard case .sequence(let seq) = value, !seq.isEmpty else { f.problem(value, "actions must be a non-empty list"); continue }
                p.actions = seq.compactMap { action($0, f) }
            case "dedup_key": if let t = f.template(value, "dedup_key") { p.dedupKey = t }
            case "dedup_window": if let d = f.durationMs(value, "dedup_window") { p.dedupWindowMs = d }
            case "cooldown": p.cooldownMs = f.durationMs(value, "cooldown")
            case "rate_limit":
                guard let e = f.mapping(value, "rate_limit", allowed: ["count", "period"]) else { continue }
                var count: Int?, period: Int64?
                for (k, _, v) in e {
                    if k == "count" { count = f.int(v, "rate_limit.count", range: 1...1_000_000) } else { period = f.durationMs(v, "rate_limit.period") }
                }
                if let count, let period, period > 0 { p.rateLimit = .init(count: count, periodMs: period) } else if e.count < 2 {
                    f.problem(value, "rate_limit needs both count and period (e.g. {count: 5, period: 1h})")
                }
            case "dry_run": p.dryRun = f.bool(value, "dry_run") ?? false
            case "approval":
                guard let e = f.mapping(value, "approval", allowed: ["timeout"]) else { continue }
                guard let t = e.first else { f.problem(value, "approval needs a timeout (e.g. {timeout: 30m})"); continue }
                if let ms = f.durationMs(t.value, "approval.timeout"), ms > 0 { p.approvalTimeoutMs = ms }
            default: break
            }
        }
        if !hasName { f.problem(node, "a policy needs a name") }
        if !hasActions { f.problem(node, "policy '\(p.name)' has no actions") }
        if p.dryRun && p.approvalTimeoutMs != nil { f.problem(node, "policy '\(p.name)' is dry_run and needs approval: choose one") }
        // A program that will run must be there now; a dry-run policy may be staged on a
        // machine without it (it is never run).
        if !p.dryRun {
            for (program, at) in f.programs where !FileManager.default.isExecutableFile(atPath: program) {
                f.problem(at, "exec.program '\(program)' is not an executable file")
            }
        }
        f.programs.removeAll()
        return f.problems.count == before ? p : nil
    }

    static func match(_ node: Node, _ f: YAMLFields) -> IncidentMatch? {
        let allowed: Set<String> = ["changes", "root_cause_kind", "root_cause_entity", "anomaly_kinds", "severity", "services", "labels"]
        guard let entries = f.mapping(node, "match", allowed: allowed) else { return nil }
        var m = IncidentMatch()
        for (key, _, value) in entries {
            switch key {
            case "changes":
                guard let list = f.strings(value, "changes") else { continue }
                let bad = list.filter { !["opened", "updated", "closed"].contains($0) }
                if !bad.isEmpty { f.problem(value, "changes: unknown \(bad.joined(separator: ", ")); expected opened, updated or closed") }
                m.changes = Set(list)
            case "root_cause_kind":
                guard let list = f.strings(value, "root_cause_kind") else { continue }
                let known = ["service", "operation", "pod", "host", "peer", "log_template"]
                let bad = list.filter { !known.contains($0) }
                if !bad.isEmpty { f.problem(value, "root_cause_kind: unknown \(bad.joined(separator: ", ")); expected one of \(known.joined(separator: ", "))") }
                m.rootCauseKinds = Set(list)
            case "root_cause_entity": m.rootCauseEntities = f.strings(value, "root_cause_entity")
            case "anomaly_kinds": m.anomalyKinds = f.strings(value, "anomaly_kinds").map(Set.init)
            case "severity":
                guard let s = f.string(value, "severity") else { continue }
                guard let sev = RemediationIncident.Severity(rawValue: s) else {
                    f.problem(value, "severity: unknown '\(s)'; expected info, warning or critical (the least severity matched)")
                    continue
                }
                m.minimumSeverity = sev
            case "services": m.services = f.strings(value, "services").map(Set.init)
            case "labels": m.labels = f.stringMap(value, "labels") ?? [:]
            default: break
            }
        }
        return m
    }

    static func action(_ node: Node, _ f: YAMLFields) -> ActionSpec? {
        guard let entries = f.mapping(node, "an action", allowed: ["webhook", "exec", "kafka"]) else { return nil }
        guard entries.count == 1, let (kind, _, body) = entries.first else {
            f.problem(node, "an action is exactly one of webhook, exec or kafka")
            return nil
        }
        switch kind {
        case "webhook": return webhook(body, f).map(ActionSpec.webhook)
        case "exec": return exec(body, f).map(ActionSpec.exec)
        default: return kafka(body, f).map(ActionSpec.kafka)
        }
    }

    static func webhook(_ node: Node, _ f: YAMLFields) -> WebhookSpec? {
        guard let e = f.mapping(node, "webhook", allowed: ["url", "body", "headers", "timeout", "retries", "backoff"]) else { return nil }
        var spec = WebhookSpec(url: "")
        for (key, _, v) in e {
            switch key {
            case "url":
                guard let s = f.string(v, "webhook.url") else { continue }
                if let u = URL(string: s), ["http", "https"].contains(u.scheme ?? ""), u.host != nil { spec.url = s } else {
                    f.problem(v, "webhook.url '\(s)' is not an http:// or https:// URL")
                }
            case "body":
                guard let s = f.string(v, "webhook.body") else { continue }
                if let b = WebhookSpec.Body(rawValue: s) { spec.body = b } else { f.problem(v, "webhook.body: unknown '\(s)'; expected alertmanager or incident") }
            case "headers":
                guard let h = f.stringMap(v, "webhook.headers") else { continue }
                for (name, value) in h {
                    if let problem = SecretReference.problem(in: value) { f.problem(v, "webhook.headers.\(name): \(problem)") }
                }
                spec.headers = h
            case "timeout": if let ms = f.durationMs(v, "webhook.timeout") { spec.timeoutMs = Int(max(1, ms)) }
            case "retries": if let n = f.int(v, "webhook.retries", range: 0...20) { spec.retries = n }
            case "backoff": if let ms = f.durationMs(v, "webhook.backoff") { spec.backoffMs = Int(ms) }
            default: break
            }
        }
        if !e.contains(where: { $0.key == "url" }) { f.problem(node, "webhook needs a url") }
        return spec
    }

    static func exec(_ node: Node, _ f: YAMLFields) -> ExecSpec? {
        guard let e = f.mapping(node, "exec", allowed: ["program", "args", "env", "timeout"]) else { return nil }
        var spec = ExecSpec(program: "")
        for (key, _, v) in e {
            switch key {
            case "program":
                guard let s = f.string(v, "exec.program") else { continue }
                if !s.hasPrefix("/") {
                    f.problem(v, "exec.program '\(s)' must be an absolute path (PATH is not searched, and no shell runs it)")
                } else {
                    f.programs.append((s, v))
                }
                spec.program = s
            case "args":
                guard case .sequence(let seq) = v else { f.problem(v, "exec.args must be a list, one entry per argument"); continue }
                spec.arguments = seq.compactMap { f.template($0, "exec.args") }
            case "env":
                guard let names = f.strings(v, "exec.env") else { continue }
                for n in names where n.isEmpty || n.contains("=") { f.problem(v, "exec.env: '\(n)' is not a variable name") }
                spec.environment = names
            case "timeout": if let ms = f.durationMs(v, "exec.timeout") { spec.timeoutMs = Int(max(1, ms)) }
            default: break
            }
        }
        if !e.contains(where: { $0.key == "program" }) { f.problem(node, "exec needs a program") }
        return spec
    }

    static func kafka(_ node: Node, _ f: YAMLFields) -> KafkaSpec? {
        guard let e = f.mapping(node, "kafka", allowed: ["topic", "key"]) else { return nil }
        var spec = KafkaSpec(topic: "")
        for (key, _, v) in e {
            if key == "topic" { spec.topic = f.string(v, "kafka.topic") ?? "" } else if let t = f.template(v, "kafka.key") { spec.key = t }
        }
        if spec.topic.isEmpty { f.problem(node, "kafka needs a topic") }
        return spec
    }

    public static func yamlErrorLine(_ error: Error) -> Int {
        guard let y = error as? YamlError else { return 1 }
        switch y {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): return mark.line
        case .duplicatedKeysInMapping(_, let context): return context.mark.line
        default: return 1
        }
    }

    public static func yamlErrorReason(_ error: Error) -> String {
        guard let y = error as? YamlError else { return "\(error)" }
        switch y {
        case .scanner(let c, let problem, _, _), .parser(let c, let problem, _, _), .composer(let c, let problem, _, _):
            return [c?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
        case .duplicatedKeysInMapping(let duplicates, _): return "duplicated keys \(duplicates.joined(separator: ", "))"
        default: return "\(y)"
        }
    }
}
