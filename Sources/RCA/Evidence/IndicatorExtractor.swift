import Detectors
import Foundation

/// Settings of the comparison between an incident window and its baseline.
public struct IndicatorConfig: Sendable, Equatable {
    /// Operations and edges with fewer spans than this in either window are not judged.
    public var minimumCount: Int
    /// A latency counts as exceeding when above this quantile of the baseline's.
    public var exceedanceQuantile: Double
    /// A latency is reported only when its median grew by this factor: workload mix alone moves
    /// the tail of heavy-tailed latencies; a fault on the path moves the middle.
    public var minimumLatencyRatio: Double
    /// Indicators less surprising than this are dropped.
    public var minimumSurprise: Double
    /// A metric's baseline spread is taken as at least this share of its mean, so that a flat
    /// baseline (availability at exactly 100 for days) does not make every wiggle certain.
    public var metricSpreadFloor: Double
    /// How many baseline readings the expected sampling noise of a metric counts for, against
    /// the spread its history shows.
    public var metricPriorReadings: Double

    public init(minimumCount: Int = 5, exceedanceQuantile: Double = 0.95, minimumLatencyRatio: Double = 2, minimumSurprise: Double = 2,
                metricSpreadFloor: Double = 0.01, metricPriorReadings: Double = 4) {
        self.metricSpreadFloor = metricSpreadFloor
        self.metricPriorReadings = metricPriorReadings
        self.minimumCount = minimumCount
        self.exceedanceQuantile = exceedanceQuantile
        self.minimumLatencyRatio = minimumLatencyRatio
        self.minimumSurprise = minimumSurprise
    }
}

/// Compares the graph of an incident window with the graph of a baseline (the windows before
/// it) and lists every indicator that moved. Each test is a plain tail probability under the
/// baseline, so that different kinds of evidence are comparable.
public struct IndicatorExtractor: Sendable {
    public var config: IndicatorConfig
    /// Names log templates in details; ids are shown when it has none.
    public var templateNames: [UInt64: String]
    /// The code location of log events keyed by one (`LogEvent`), so that indicators can say
    /// which lines of code they are about.
    public var codeLocations: [UInt64: String] = [:]

    public init(config: IndicatorConfig = IndicatorConfig(), templateNames: [UInt64: String] = [:]) {
        self.config = config
        self.templateNames = templateNames
    }

    public func indicators(current: GraphWindow, baseline: GraphWindow) -> [Indicator] {
        var out: [Indicator] = []
        for (key, cur) in current.operations {
            guard cur.count >= config.minimumCount, let base = baseline.operations[key], base.count >= config.minimumCount else { continue }
            let entity = Entity.service(key.service)
            let op = key.operation
            if let i = exceedance(.latency, cur.duration, base.duration, entity: entity, what: "\(op) latency") { out.append(i) }
            if let i = exceedance(.selfTime, cur.selfTime, base.selfTime, entity: entity, what: "\(op) self time") { out.append(i) }
            if let i = errorShift(cur.errors, cur.count, base.errors, base.count, entity: entity, edge: nil, what: op) { out.append(i) }
            out += logPresence(cur, base, entity: entity, operation: op)
            out += logSequence(cur, base, entity: entity, operation: op)
        }
        for (key, cur) in current.calls {
            guard cur.count >= config.minimumCount, let base = baseline.calls[key], base.count >= config.minimumCount else { continue }
            let what = "\(key.caller.name) → \(key.callee.name)"
            let callee = key.callee
            if base.gap.count >= UInt64(config.minimumCount),
               var i = exceedance(.callGap, cur.gap, base.gap, entity: callee, what: "\(what) wire time") {
                i.edge = key
                out.append(i)
            }
            if key.callee.kind == .peer, let i = exceedance(.latency, cur.latency, base.latency, entity: callee, what: "\(what) latency") {
                out.append(i)
            }
            if let i = errorShift(cur.errors, cur.count, base.errors, base.count, entity: callee, edge: key, what: what) { out.append(i) }
        }
        out += metricShifts(current, baseline)
        out += newTemplates(current, baseline)
        return out.filter { $0.surprise >= config.minimumSurprise }
    }

    /// The code location of an event: "<operation> start" for a span's start, "" when unknown.
    func location(_ event: UInt64, _ operation: String) -> String {
        if event == TransitionKey.start { return operation + " start" }
        if event == TransitionKey.end { return operation + " end" }
        return codeLocations[event] ?? ""
    }

    func name(_ template: UInt64) -> String {
        if template == TransitionKey.start { return "(span start)" }
        if template == TransitionKey.end { return "(span end)" }
        guard let text = templateNames[template] else { return "template \(template)" }
        return "\"\(text.count > 120 ? text.prefix(117) + "..." : text)\""
    }

    /// How many current values exceed the baseline's high quantile, against the share that
    /// would by chance.
    func exceedance(_ kind: Indicator.Kind, _ cur: DDSketch, _ base: DDSketch, entity: Entity, what: String) -> Indicator? {
        guard cur.count > 0, base.count > 0, let high = base.quantile(config.exceedanceQuantile),
              let curMedian = cur.quantile(0.5), let baseMedian = base.quantile(0.5) else { return nil }
        let above = Int(cur.count(above: high))
        let n = Int(cur.count)
        let s = TailSurprise.binomialAtLeast(above, of: n, p: 1 - config.exceedanceQuantile)
        let ratio = (curMedian + 1) / (baseMedian + 1)
        guard ratio >= config.minimumLatencyRatio else { return nil }
        return Indicator(kind: kind, entity: entity, surprise: s, ratio: ratio, effect: log(ratio) / log(10),
                         detail: "\(what) p50 ×\(Self.format(ratio)) (\(Self.micros(baseMedian)) → \(Self.micros(curMedian))), \(above)/\(n) above the baseline p\(Int(config.exceedanceQuantile * 100))")
    }

    func errorShift(_ errors: Int, _ count: Int, _ baseErrors: Int, _ baseCount: Int, entity: Entity, edge: CallKey?, what: String) -> Indicator? {
        guard errors > 0 else { return nil }
        let p = (Double(baseErrors) + 0.5) / (Double(baseCount) + 1)
        guard Double(errors) / Double(count) > p else { return nil }
        let ratio = (Double(errors) / Double(count)) / p
        return Indicator(kind: .errors, entity: entity, edge: edge, surprise: TailSurprise.binomialAtLeast(errors, of: count, p: p), ratio: ratio,
                         effect: Double(errors) / Double(count) - Double(baseErrors) / Double(max(1, baseCount)),
                         detail: "\(what) errors \(errors)/\(count) (was \(baseErrors)/\(baseCount))")
    }

    /// Templates logged by a different share of the operation's spans.
    func logPresence(_ cur: OperationStats, _ base: OperationStats, entity: Entity, operation: String) -> [Indicator] {
        var out: [Indicator] = []
        let templates = Set(cur.spansWithTemplate.keys).union(base.spansWithTemplate.keys)
        for t in templates {
            let k = cur.spansWithTemplate[t] ?? 0
            let b = base.spansWithTemplate[t] ?? 0
            let p = (Double(b) + 0.5) / (Double(base.count) + 1)
            let s = TailSurprise.binomialTwoSided(k, of: cur.count, p: p)
            let ratio = (Double(k) / Double(cur.count)) / (Double(b) / Double(base.count) + 1e-9)
            var i = Indicator(kind: .logPresence, entity: entity, surprise: s, ratio: ratio,
                              effect: abs(Double(k) / Double(cur.count) - Double(b) / Double(base.count)),
                              detail: "\(operation): \(name(t)) in \(k)/\(cur.count) spans (was \(b)/\(base.count))")
            i.codeLocations = [location(t, operation)]
            out.append(i)
        }
        return out
    }

    /// For each log line (and the span's start), whether what follows it changed: a G-test of
    /// the next-template counts against the baseline's distribution.
    func logSequence(_ cur: OperationStats, _ base: OperationStats, entity: Entity, operation: String) -> [Indicator] {
        var nextCur: [UInt64: [UInt64: Int]] = [:]
        var nextBase: [UInt64: [UInt64: Int]] = [:]
        for (k, n) in cur.transitions { nextCur[k.from, default: [:]][k.to] = n }
        for (k, n) in base.transitions { nextBase[k.from, default: [:]][k.to] = n }
        var out: [Indicator] = []
        // In key order: hashing is seeded per process, and ties must break alike in every run
        // (a replay must say what the live run said).
        for (from, c) in nextCur.sorted(by: { $0.key < $1.key }) {
            guard let b = nextBase[from] else { continue }
            let nc = c.values.reduce(0, +), nb = b.values.reduce(0, +)
            guard nc >= config.minimumCount, nb >= config.minimumCount else { continue }
            let outcomes = Set(c.keys).union(b.keys)
            guard outcomes.count > 1 else { continue }
            var g = 0.0
            var worst: (to: UInt64, k: Int, b: Int, shift: Double) = (0, 0, 0, 0)
            for to in outcomes.sorted() {
                let o = Double(c[to] ?? 0)
                let pb = (Double(b[to] ?? 0) + 0.5) / (Double(nb) + 0.5 * Double(outcomes.count))
                let e = Double(nc) * pb
                if o > 0 { g += 2 * o * log(o / e) }
                let shift = abs(o / Double(nc) - Double(b[to] ?? 0) / Double(nb))
                if shift > worst.shift { worst = (to, c[to] ?? 0, b[to] ?? 0, shift) }
            }
            // A line inside a loop is followed many times per span, and those steps are not
            // independent: count the test's sample as the spans that logged the line.
            let spans = from == TransitionKey.start ? cur.count : (cur.spansWithTemplate[from] ?? nc)
            g *= min(1, Double(spans) / Double(nc))
            let s = TailSurprise.chiSquared(g, degreesOfFreedom: outcomes.count - 1)
            let ratio = (Double(worst.k) / Double(nc)) / (Double(worst.b) / Double(nb) + 1e-9)
            var i = Indicator(kind: .logSequence, entity: entity, surprise: s, ratio: ratio, effect: worst.shift,
                              detail: "\(operation): after \(name(from)), \(name(worst.to)) \(worst.k)/\(nc) times (was \(worst.b)/\(nb))")
            // The step that used to follow, and the one that moved most.
            let usual = b.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key ?? worst.to
            i.codeLocations = [location(from, operation), location(usual, operation), location(worst.to, operation)]
            out.append(i)
        }
        return out
    }

    /// Metrics whose mean moved the bad way (`MetricPolarity`) in units of the baseline's spread
    /// (never below what sampling alone gives, nor 1% of its mean, so that a short or flat
    /// baseline does not turn noise into certainty).
    func metricShifts(_ current: GraphWindow, _ baseline: GraphWindow) -> [Indicator] {
        let owners = current.servicesOf.merging(baseline.servicesOf) { $0.union($1) }
        let currentRequests = Self.requestCounts(in: current), baselineRequests = Self.requestCounts(in: baseline)
        var out: [Indicator] = []
        for (key, cur) in current.metrics {
            // One baseline reading is allowed (a case with no normal history has only the
            // readings before the incident); its spread is then the floor below.
            guard let base = baseline.metrics[key], base.count >= 1, cur.count > 0 else { continue }
            let mean = base.mean
            let variance = max(0, base.sumOfSquares / Double(base.count) - mean * mean)
            // A statistic over the n requests of one window wanders by about its own size over
            // √n (Poisson for a count, a coefficient of variation near 1 for a latency). That is
            // the prior spread, worth a few readings; a long history's own spread outweighs it,
            // while with one or two readings a few slow calls of a rarely used entity are not
            // taken for a shift.
            let prior = max(config.metricSpreadFloor * abs(mean), currentRequests[key.entity].map { abs(mean) / max(1, $0).squareRoot() } ?? 0)
            // Pooled as in a conjugate prior: k pseudo-readings of the prior variance plus the
            // history's squared deviations (n readings, n − 1 degrees of freedom).
            let squaredDeviations = variance * Double(base.count)
            let pooled = (config.metricPriorReadings * prior * prior + squaredDeviations) / (config.metricPriorReadings + Double(base.count - 1))
            let spread = max(pooled.squareRoot(), config.metricSpreadFloor * abs(mean), 1e-9)
            let polarity = MetricPolarity.of(key.name)
            // The mean over the incident window: its single worst reading is noisier (tried:
            // Nezha AC@1 0.80 → 0.60).
            let worst = cur.mean
            let z = (worst - mean) / spread
            guard z.isFinite, polarity.isBad(z) else { continue }
            // Metrics are heavy-tailed and the baseline may be a few readings: judge the
            // distance against Student's t with 3 degrees of freedom, not a Gaussian.
            var s = TailSurprise.studentT3(z)
            // With a long history the rank is evidence too, whatever the distribution: a reading
            // worse than all n baseline readings has probability 1/(n+1) (this is what makes a
            // drop from an availability that sat at exactly 100 count).
            if let asBad = base.countAsBadAs(worst, polarity: polarity) {
                s = max(s, -log10(Double(asBad + 1) / Double(base.count + 1)))
            }
            // A success rate is a share of requests: when the entity reports how many, the
            // evidence is how many failed against the baseline's failure rate — an availability
            // of 0% over one request is no news, 97% over thousands is.
            if let requests = currentRequests[key.entity], let rate = Self.percentShare(key.name) {
                let n = Int(requests.rounded())
                let failed = Int((Double(n) * (1 - worst / rate)).rounded())
                // The baseline's failure rate over its requests, half a failure added so that
                // a spotless history is not taken as proof that failures cannot happen.
                let baseRequests = (baselineRequests[key.entity] ?? 0) * Double(base.count)
                let baseFailures = min(1, max(0, 1 - mean / rate)) * baseRequests
                s = n > 0 ? TailSurprise.binomialAtLeast(failed, of: n, p: (baseFailures + 0.5) / (baseRequests + 1)) : 0
            }
            let ratio = (worst + 1e-9) / (mean + 1e-9)
            let detail = "\(key.entity.name) \(key.name) \(Self.format(mean)) → \(Self.format(worst)) (\(z >= 0 ? "+" : "")\(Self.format(z))σ)"
            // A pod's or host's metric is evidence about the services on it.
            let services = key.entity.kind == .service || key.entity.kind == .peer ? [key.entity] : (owners[key.entity] ?? []).sorted().map { Entity.service($0) }
            for e in services.isEmpty ? [key.entity] : services {
                var i = Indicator(kind: .metric, entity: e, surprise: s, ratio: ratio, detail: detail)
                i.metricName = key.name
                i.change = worst - mean
                out.append(i)
            }
        }
        return out
    }

    /// For a success-rate metric (availability, success rate): 100 when it is a percentage, 1
    /// when a fraction; nil for other metrics.
    static func percentShare(_ name: String) -> Double? {
        let n = name.lowercased()
        guard n.contains("availability") || n.contains("success") else { return nil }
        return n.contains("ratio") || n.contains("fraction") ? 1 : 100
    }

    /// The number of requests each entity served in the window (the mean of its request-count
    /// metric), for the entities that report one. Computed once per comparison: looked up per
    /// metric, it made the comparison quadratic in the window's metrics. When an entity has
    /// several such metrics, the first by name counts (a replay must judge as the live run did).
    static func requestCounts(in window: GraphWindow) -> [Entity: Double] {
        var out: [Entity: (name: String, requests: Double)] = [:]
        for (k, m) in window.metrics where m.count > 0 {
            let n = k.name.lowercased()
            guard n.hasPrefix("requests") || n.hasSuffix("request count") || n.contains("workload") else { continue }
            if let known = out[k.entity], known.name <= k.name { continue }
            out[k.entity] = (k.name, m.sum / Double(m.count))
        }
        return out.mapValues(\.requests)
    }

    /// Error templates a service never logged in the baseline, by how many lines. (New
    /// templates at other levels are mostly the miner splitting a familiar line whose variable
    /// part changed length; changes in what spans log are `logPresence` and `logSequence`.)
    func newTemplates(_ current: GraphWindow, _ baseline: GraphWindow) -> [Indicator] {
        let baseMinutes = Double(max(1, baseline.end - baseline.start)) / 60_000
        let curMinutes = Double(max(1, current.end - current.start)) / 60_000
        var out: [Indicator] = []
        for (link, n) in current.emitsErrors where baseline.emits[link] == nil {
            // Against half a line in the whole baseline, scaled to the incident window's length.
            let expected = 0.5 * curMinutes / baseMinutes
            let s = TailSurprise.poissonAtLeast(n, mean: expected)
            out.append(Indicator(kind: .newTemplate, entity: link.from, surprise: s, ratio: Double(n) / expected,
                                 detail: "new error log template \(name(UInt64(link.to.name) ?? 0)) ×\(n)"))
        }
        return out
    }

    static func format(_ x: Double) -> String {
        guard x.isFinite else { return "\(x)" }
        if abs(x) >= 100 { return String(Int(x.rounded())) }
        return String(format: abs(x) >= 10 ? "%.1f" : "%.2f", x)
    }

    static func micros(_ x: Double) -> String {
        x >= 1000 ? "\(format(x / 1000)) ms" : "\(format(x)) µs"
    }
}

extension TailSurprise {
    /// P(K ≥ k) for K ~ Poisson(mean).
    static func poissonAtLeast(_ k: Int, mean: Double) -> Double {
        guard k > 0, mean > 0 else { return 0 }
        // Sum the upper tail from k until the terms vanish.
        var logTerm = Double(k) * log(mean) - mean - lgamma(Double(k + 1))
        var terms = [logTerm]
        var i = k
        while terms.count < 10_000 {
            i += 1
            logTerm += log(mean / Double(i))
            terms.append(logTerm)
            if logTerm < terms[0] - 40 { break }
        }
        let m = terms.max()!
        return max(0, -(m + log(terms.reduce(0) { $0 + exp($1 - m) })) / M_LN10)
    }
}
