import Stream

/// The outcome of one request to a tenant's service: the entry (server) span of the request.
struct Outcome: Sendable {
    var tenant: String
    var isError: Bool
}

/// An alert as it opens and as it clears.
struct BurnAlert: Sendable, CustomStringConvertible {
    var tenant: String
    var firing: Bool
    var at: Timestamp
    var shortBurn: Double
    var longBurn: Double

    var description: String {
        let what = firing ? "BURNING" : "RESOLVED"
        return "\(what) \(tenant) at \(TimeText.rfc3339(at)): error budget burning \(format(shortBurn))× over the short window, \(format(longBurn))× over the long one"
    }

    private func format(_ v: Double) -> String { v >= 10 ? String(Int(v.rounded())) : String((v * 10).rounded() / 10) }
}

/// The settings of the multi-window burn-rate alert (Google's SRE workbook, "Alerting on SLOs"):
/// page when both the long and the short window burn the budget `threshold` times faster than
/// the SLO allows; the short window makes the alert clear soon after the errors stop.
struct BurnRatePolicy: Sendable {
    /// The SLO's target share of good requests, e.g. 0.999.
    var objective: Double
    var shortWindow: Int64
    var longWindow: Int64
    var bucket: Int64
    var threshold: Double
    /// Fewer requests than this in the short window judge nothing.
    var minimumRequests: Int
}

/// Per tenant: request and error counts per bucket of event time, judged at each bucket's end.
struct BudgetState: Codable, Sendable {
    var buckets: [Int64: Counts] = [:]
    var firing = false

    struct Counts: Codable, Sendable {
        var requests = 0
        var errors = 0
    }
}

/// The keyed operator: one `BudgetState` per tenant in keyed state (so in every checkpoint),
/// event-time timers at bucket ends.
struct BurnRateFunction: KeyedProcessFunction, @unchecked Sendable {
    typealias Key = String
    typealias Input = Outcome
    typealias Output = BurnAlert

    let policy: BurnRatePolicy
    private var state: ValueState<String, BudgetState>!

    init(policy: BurnRatePolicy) { self.policy = policy }

    mutating func open(_ context: KeyedContext<String, BurnAlert>) throws {
        state = try context.valueState("error-budget", BudgetState.self)
    }

    mutating func processElement(_ outcome: Outcome, _ context: KeyedContext<String, BurnAlert>) throws {
        let t = context.timestamp
        let bucket = t - ((t % policy.bucket) + policy.bucket) % policy.bucket
        state.mutate(default: { BudgetState() }) { s in
            s.buckets[bucket, default: .init()].requests += 1
            if outcome.isError { s.buckets[bucket, default: .init()].errors += 1 }
        }
        context.registerEventTimeTimer(at: bucket + policy.bucket - 1)
    }

    mutating func onTimer(_ timestamp: Timestamp, domain: TimeDomain, _ context: KeyedContext<String, BurnAlert>) throws {
        let policy = self.policy
        let now = timestamp + 1
        let alert: BurnAlert? = state.mutate(default: { BudgetState() }) { s in
            s.buckets = s.buckets.filter { $0.key >= now - policy.longWindow }
            func burn(_ window: Int64) -> (Double, Int) {
                let inWindow = s.buckets.filter { $0.key >= now - window && $0.key < now }.values
                let requests = inWindow.reduce(0) { $0 + $1.requests }, errors = inWindow.reduce(0) { $0 + $1.errors }
                return (requests == 0 ? 0 : Double(errors) / Double(requests) / (1 - policy.objective), requests)
            }
            let (short, shortRequests) = burn(policy.shortWindow)
            let (long, _) = burn(policy.longWindow)
            let burning = shortRequests >= policy.minimumRequests && short >= policy.threshold && long >= policy.threshold
            // Clears once the short window is back under the threshold.
            let cleared = s.firing && short < policy.threshold
            guard burning != s.firing, burning || cleared else { return nil }
            s.firing = burning
            return BurnAlert(tenant: context.key, firing: burning, at: now, shortBurn: short, longBurn: long)
        }
        if let alert { try context.emit(alert, timestamp: timestamp) }
        // Judge the next bucket too while the long window still holds requests.
        if !(state.value?.buckets.isEmpty ?? true) { context.registerEventTimeTimer(at: timestamp + policy.bucket) }
    }
}
