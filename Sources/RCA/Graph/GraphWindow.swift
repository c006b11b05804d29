import Detectors
import Stream

/// A service's operation: the unit whose latency, errors and log patterns are compared.
public struct OperationKey: Hashable, Sendable, Comparable {
    public var service: String
    public var operation: String
    public init(service: String, operation: String) {
        self.service = service
        self.operation = operation
    }
    public static func < (a: OperationKey, b: OperationKey) -> Bool { (a.service, a.operation) < (b.service, b.operation) }
}

/// A call edge: a service (caller) to the service, database or queue it called.
public struct CallKey: Hashable, Sendable, Comparable {
    public var caller: Entity
    public var callee: Entity
    public init(caller: Entity, callee: Entity) {
        self.caller = caller
        self.callee = callee
    }
    public static func < (a: CallKey, b: CallKey) -> Bool { (a.caller, a.callee) < (b.caller, b.callee) }
}

/// One step of a span's log sequence: template `from` followed by template `to`. The span's
/// start and end are the pseudo-templates `TransitionKey.start` and `.end`, so "the span ended
/// without its usual last line" is a transition like any other.
public struct TransitionKey: Hashable, Sendable {
    public static let start: UInt64 = 0
    public static let end: UInt64 = .max
    public var from: UInt64
    public var to: UInt64
    public init(from: UInt64, to: UInt64) {
        self.from = from
        self.to = to
    }
}

/// A metric of an entity.
public struct MetricKey: Hashable, Sendable, Comparable {
    public var entity: Entity
    public var name: String
    public init(entity: Entity, name: String) {
        self.entity = entity
        self.name = name
    }
    public static func < (a: MetricKey, b: MetricKey) -> Bool { (a.entity, a.name) < (b.entity, b.name) }
}

/// A runs-on or emits link between two entities.
public struct Link: Hashable, Sendable, Comparable {
    public var from: Entity
    public var to: Entity
    public init(from: Entity, to: Entity) {
        self.from = from
        self.to = to
    }
    public static func < (a: Link, b: Link) -> Bool { (a.from, a.to) < (b.from, b.to) }
}

/// What one window saw of an operation. Durations are in microseconds.
public struct OperationStats: Sendable {
    public var count = 0
    public var errors = 0
    public var duration = DDSketch()
    /// Duration minus the time spent in child spans: where the time went in this service itself.
    public var selfTime = DDSketch()
    /// How many spans logged each template at least once.
    public var spansWithTemplate: [UInt64: Int] = [:]
    /// Consecutive log templates within a span.
    public var transitions: [TransitionKey: Int] = [:]

    public init() {}

    public mutating func merge(_ o: OperationStats) {
        count += o.count
        errors += o.errors
        duration.merge(o.duration)
        selfTime.merge(o.selfTime)
        spansWithTemplate.merge(o.spansWithTemplate, uniquingKeysWith: +)
        transitions.merge(o.transitions, uniquingKeysWith: +)
    }
}

/// What one window saw of a call edge. `gap` is the caller's span duration minus the callee's:
/// time on the wire and in queues, which a slow network or a starved caller stretches.
public struct CallStats: Sendable {
    public var count = 0
    public var errors = 0
    public var latency = DDSketch()
    public var gap = DDSketch()

    public init() {}

    public mutating func merge(_ o: CallStats) {
        count += o.count
        errors += o.errors
        latency.merge(o.latency)
        gap.merge(o.gap)
    }
}

/// Readings of one metric in one window: moments, and the distribution of the non-negative
/// readings (most metrics) for rank tests.
public struct MetricSummary: Sendable, Equatable {
    public var count = 0
    public var sum = 0.0
    public var sumOfSquares = 0.0
    public var min = Double.infinity
    public var max = -Double.infinity
    public var values = DDSketch()
    /// Readings below zero, which the sketch does not hold.
    public var negatives = 0

    public init() {}

    public var mean: Double { count == 0 ? .nan : sum / Double(count) }

    public mutating func add(_ x: Double) {
        count += 1
        sum += x
        sumOfSquares += x * x
        min = Swift.min(min, x)
        max = Swift.max(max, x)
        if x >= 0 { values.add(x) } else { negatives += 1 }
    }

    public mutating func merge(_ o: MetricSummary) {
        count += o.count
        sum += o.sum
        sumOfSquares += o.sumOfSquares
        min = Swift.min(min, o.min)
        max = Swift.max(max, o.max)
        values.merge(o.values)
        negatives += o.negatives
    }

    /// How many readings were as bad as x or worse (nil when some were negative).
    func countAsBadAs(_ x: Double, polarity: MetricPolarity) -> Int? {
        guard negatives == 0, x >= 0 else { return nil }
        let above = Int(values.count(above: x * (1 - 1e-12)))
        let atOrBelow = count - Int(values.count(above: x))
        switch polarity {
        case .higherIsWorse: return above
        case .lowerIsWorse: return atOrBelow
        case .eitherWay: return nil
        }
    }
}

/// The knowledge graph of one time window: its entities are the keys; its edges are calls,
/// runs-on and emits links, each with what was measured on it in the window.
public struct GraphWindow: Sendable {
    /// Milliseconds since 1970, [start, end).
    public var start: Int64
    public var end: Int64
    public var operations: [OperationKey: OperationStats] = [:]
    public var calls: [CallKey: CallStats] = [:]
    public var metrics: [MetricKey: MetricSummary] = [:]
    /// service → pod, pod → host.
    public var runsOn: Set<Link> = []
    /// service → log template, with how many lines.
    public var emits: [Link: Int] = [:]
    /// The same, counting only error lines.
    public var emitsErrors: [Link: Int] = [:]

    public init(start: Int64, end: Int64) {
        self.start = start
        self.end = end
    }

    /// The windows' union, as if they were one window.
    public static func merged(_ windows: some Sequence<GraphWindow>) -> GraphWindow? {
        var it = windows.makeIterator()
        guard var out = it.next() else { return nil }
        while let w = it.next() { out.merge(w) }
        return out
    }

    public mutating func merge(_ o: GraphWindow) {
        start = Swift.min(start, o.start)
        end = Swift.max(end, o.end)
        for (k, v) in o.operations { operations[k, default: OperationStats()].merge(v) }
        for (k, v) in o.calls { calls[k, default: CallStats()].merge(v) }
        for (k, v) in o.metrics { metrics[k, default: MetricSummary()].merge(v) }
        runsOn.formUnion(o.runsOn)
        emits.merge(o.emits, uniquingKeysWith: +)
        emitsErrors.merge(o.emitsErrors, uniquingKeysWith: +)
    }

    /// Every service seen: serving spans, calling, or owning a metric.
    public var services: Set<String> {
        var s = Set(operations.keys.map(\.service))
        for k in calls.keys {
            if k.caller.kind == .service { s.insert(k.caller.name) }
            if k.callee.kind == .service { s.insert(k.callee.name) }
        }
        return s
    }

    /// The service each pod and host belongs to (a host may run several: it maps to all).
    public var servicesOf: [Entity: Set<String>] {
        var podServices: [Entity: Set<String>] = [:]
        for l in runsOn where l.from.kind == .service { podServices[l.to, default: []].insert(l.from.name) }
        var out = podServices
        for l in runsOn where l.from.kind == .pod {
            out[l.to, default: []].formUnion(podServices[l.from] ?? [])
        }
        for s in services { out[.service(s), default: []].insert(s) }
        return out
    }
}
