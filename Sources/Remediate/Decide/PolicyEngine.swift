import Foundation

/// Decides, for each incident report, what every policy does: match, then dedup, cooldown and
/// rate limit in that order, then dry-run, approval or execution. Pure: the same state and
/// incidents give the same decisions, which is what makes a replay after a crash safe.
///
/// Only a firing counts: a dedup key, the cooldown and the rate limit are charged when the
/// policy fires (dry-run and awaiting approval included), not when it is suppressed, so an
/// incident held back by a cooldown can still fire on a later update once it has passed.
public struct PolicyEngine: Sendable {
    public let config: RemediationConfig

    public init(config: RemediationConfig) { self.config = config }

    public func decide(_ report: RemediationIncident, state: inout PolicyState) -> [OutboxEntry] {
        let incident = config.labelled(report)
        let now = incident.eventTime
        state.forgetExpired(before: now)
        var out: [OutboxEntry] = []
        for policy in config.policies where policy.match.matches(incident) {
            state.sequence += 1
            let id = "\(state.epoch)-\(state.sequence)"
            let key = policy.dedupKey.render(incident, policy: policy.name)
            var entry = OutboxEntry(id: id, policy: policy.name, incidentID: incident.id, change: incident.change, time: now,
                                    dedupKey: key, outcome: .scheduled, reason: "", actions: [], approvalTimeoutMs: nil)
            if let until = state.dedupUntil[key], until > now {
                entry.outcome = .suppressedDedup
                entry.reason = "dedup key '\(key)' fired within \(Self.duration(policy.dedupWindowMs))"
            } else if let cooldown = policy.cooldownMs, let last = state.lastFired[policy.name], now - last < cooldown {
                entry.outcome = .suppressedCooldown
                entry.reason = "cooldown \(Self.duration(cooldown)): last fired \(Self.duration(now - last)) earlier"
            } else if let limit = policy.rateLimit, recentFirings(policy, limit, now, &state) >= limit.count {
                entry.outcome = .suppressedRateLimit
                entry.reason = "rate limit \(limit.count) per \(Self.duration(limit.periodMs)) reached"
            } else {
                state.dedupUntil[key] = now + policy.dedupWindowMs
                state.lastFired[policy.name] = now
                if policy.rateLimit != nil { state.firings[policy.name, default: []].append(now) }
                entry.outcome = policy.dryRun ? .dryRun : policy.approvalTimeoutMs != nil ? .awaitingApproval : .scheduled
                entry.approvalTimeoutMs = policy.approvalTimeoutMs
                entry.reason = "matched"
                entry.actions = policy.actions.enumerated().map { plan($1, index: $0, entry: entry, incident: incident) }
            }
            out.append(entry)
        }
        return out
    }

    private func recentFirings(_ policy: Policy, _ limit: Policy.RateLimit, _ now: Int64, _ state: inout PolicyState) -> Int {
        guard var times = state.firings[policy.name] else { return 0 }
        times.removeAll { now - $0 >= limit.periodMs }
        state.firings[policy.name] = times
        return times.count
    }

    func plan(_ spec: ActionSpec, index: Int, entry: OutboxEntry, incident: RemediationIncident) -> PlannedAction {
        let key = Self.idempotencyKey(entry: entry, index: index)
        var a = PlannedAction(index: index, idempotencyKey: key)
        switch spec {
        case .webhook(let w):
            let body = w.body == .alertmanager ? WebhookBodies.alertmanager(incident, entry: entry, idempotencyKey: key)
                                               : WebhookBodies.incident(incident, entry: entry, idempotencyKey: key)
            a.webhook = .init(url: w.url, body: body, headers: w.headers, timeoutMs: w.timeoutMs, retries: w.retries, backoffMs: w.backoffMs)
        case .exec(let e):
            a.exec = .init(program: e.program, arguments: e.arguments.map { $0.render(incident, policy: entry.policy) },
                           environment: e.environment, timeoutMs: e.timeoutMs)
        case .kafka(let k):
            a.kafka = .init(topic: k.topic, key: k.key.render(incident, policy: entry.policy),
                            value: WebhookBodies.incident(incident, entry: entry, idempotencyKey: key))
        }
        return a
    }

    /// Derived from the decision, never from a clock: an action re-sent after a crash carries
    /// the key it had the first time.
    static func idempotencyKey(entry: OutboxEntry, index: Int) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in "\(entry.policy)\u{0}\(entry.dedupKey)\u{0}\(entry.id)\u{0}\(index)".utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        let hex = String(h, radix: 16)
        return "vigil-\(entry.id)-\(index)-" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    static func duration(_ ms: Int64) -> String {
        if ms % 86_400_000 == 0, ms > 0 { return "\(ms / 86_400_000)d" }
        if ms % 3_600_000 == 0, ms > 0 { return "\(ms / 3_600_000)h" }
        if ms % 60_000 == 0, ms > 0 { return "\(ms / 60_000)m" }
        if ms % 1000 == 0 { return "\(ms / 1000)s" }
        return "\(ms)ms"
    }
}
