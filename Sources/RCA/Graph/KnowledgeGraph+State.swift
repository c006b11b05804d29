import Detectors
import Stream

// The knowledge graph is operator state: it is saved in checkpoints and restored exactly,
// buffered raw records of open windows included.

extension OperationKey: StateCodable {
    public func encode(to w: inout StateWriter) { service.encode(to: &w); operation.encode(to: &w) }
    public static func decode(from r: inout StateReader) throws -> OperationKey { OperationKey(service: try .decode(from: &r), operation: try .decode(from: &r)) }
}

extension CallKey: StateCodable {
    public func encode(to w: inout StateWriter) { caller.encode(to: &w); callee.encode(to: &w) }
    public static func decode(from r: inout StateReader) throws -> CallKey { CallKey(caller: try .decode(from: &r), callee: try .decode(from: &r)) }
}

extension TransitionKey: StateCodable {
    public func encode(to w: inout StateWriter) { from.encode(to: &w); to.encode(to: &w) }
    public static func decode(from r: inout StateReader) throws -> TransitionKey { TransitionKey(from: try .decode(from: &r), to: try .decode(from: &r)) }
}

extension MetricKey: StateCodable {
    public func encode(to w: inout StateWriter) { entity.encode(to: &w); name.encode(to: &w) }
    public static func decode(from r: inout StateReader) throws -> MetricKey { MetricKey(entity: try .decode(from: &r), name: try .decode(from: &r)) }
}

extension Link: StateCodable {
    public func encode(to w: inout StateWriter) { from.encode(to: &w); to.encode(to: &w) }
    public static func decode(from r: inout StateReader) throws -> Link { Link(from: try .decode(from: &r), to: try .decode(from: &r)) }
}

extension OperationStats: StateCodable {
    public func encode(to w: inout StateWriter) {
        count.encode(to: &w); errors.encode(to: &w); duration.encode(to: &w); selfTime.encode(to: &w)
        spansWithTemplate.encode(to: &w); transitions.encode(to: &w)
    }
    public static func decode(from r: inout StateReader) throws -> OperationStats {
        var s = OperationStats()
        s.count = try .decode(from: &r); s.errors = try .decode(from: &r); s.duration = try .decode(from: &r); s.selfTime = try .decode(from: &r)
        s.spansWithTemplate = try .decode(from: &r); s.transitions = try .decode(from: &r)
        return s
    }
}

extension CallStats: StateCodable {
    public func encode(to w: inout StateWriter) { count.encode(to: &w); errors.encode(to: &w); latency.encode(to: &w); gap.encode(to: &w) }
    public static func decode(from r: inout StateReader) throws -> CallStats {
        var s = CallStats()
        s.count = try .decode(from: &r); s.errors = try .decode(from: &r); s.latency = try .decode(from: &r); s.gap = try .decode(from: &r)
        return s
    }
}

extension MetricSummary: StateCodable {
    public func encode(to w: inout StateWriter) {
        count.encode(to: &w); sum.encode(to: &w); sumOfSquares.encode(to: &w); min.encode(to: &w); max.encode(to: &w)
        values.encode(to: &w); negatives.encode(to: &w)
    }
    public static func decode(from r: inout StateReader) throws -> MetricSummary {
        var s = MetricSummary()
        s.count = try .decode(from: &r); s.sum = try .decode(from: &r); s.sumOfSquares = try .decode(from: &r)
        s.min = try .decode(from: &r); s.max = try .decode(from: &r); s.values = try .decode(from: &r); s.negatives = try .decode(from: &r)
        return s
    }
}

extension GraphWindow: StateCodable {
    public func encode(to w: inout StateWriter) {
        start.encode(to: &w); end.encode(to: &w)
        operations.encode(to: &w); calls.encode(to: &w); metrics.encode(to: &w)
        runsOn.encode(to: &w); emits.encode(to: &w); emitsErrors.encode(to: &w)
    }
    public static func decode(from r: inout StateReader) throws -> GraphWindow {
        var g = GraphWindow(start: try .decode(from: &r), end: try .decode(from: &r))
        g.operations = try .decode(from: &r); g.calls = try .decode(from: &r); g.metrics = try .decode(from: &r)
        g.runsOn = try .decode(from: &r); g.emits = try .decode(from: &r); g.emitsErrors = try .decode(from: &r)
        return g
    }
}

extension ObservedSpan: StateCodable {
    public func encode(to w: inout StateWriter) {
        service.encode(to: &w); operation.encode(to: &w); pod.encode(to: &w); host.encode(to: &w); peer.encode(to: &w)
        spanID.encode(to: &w); parentSpanID.encode(to: &w); kind.rawValue.encode(to: &w)
        startNanos.encode(to: &w); durationNanos.encode(to: &w); isError.encode(to: &w)
    }
    public static func decode(from r: inout StateReader) throws -> ObservedSpan {
        let service = try String.decode(from: &r), operation = try String.decode(from: &r)
        let pod = try String.decode(from: &r), host = try String.decode(from: &r), peer = try String.decode(from: &r)
        let id = try UInt64.decode(from: &r), parent = try UInt64.decode(from: &r)
        let rawKind = try UInt8.decode(from: &r)
        guard let kind = Kind(rawValue: rawKind) else { throw StateDecodingError("span kind \(rawKind)") }
        return ObservedSpan(service: service, operation: operation, pod: pod, host: host, peer: peer, spanID: id, parentSpanID: parent, kind: kind,
                            startNanos: try .decode(from: &r), durationNanos: try .decode(from: &r), isError: try .decode(from: &r))
    }
}

extension ObservedLog: StateCodable {
    public func encode(to w: inout StateWriter) {
        timeNanos.encode(to: &w); service.encode(to: &w); pod.encode(to: &w); spanID.encode(to: &w); templateID.encode(to: &w); isError.encode(to: &w)
        name.encode(to: &w)
    }
    public static func decode(from r: inout StateReader) throws -> ObservedLog {
        ObservedLog(timeNanos: try .decode(from: &r), service: try .decode(from: &r), pod: try .decode(from: &r), spanID: try .decode(from: &r),
                    templateID: try .decode(from: &r), isError: try .decode(from: &r), name: try .decode(from: &r))
    }
}

extension KnowledgeGraph.PendingWindow: StateCodable {
    func encode(to w: inout StateWriter) { spans.encode(to: &w); logs.encode(to: &w); metrics.encode(to: &w) }
    static func decode(from r: inout StateReader) throws -> KnowledgeGraph.PendingWindow {
        KnowledgeGraph.PendingWindow(spans: try .decode(from: &r), logs: try .decode(from: &r), metrics: try .decode(from: &r))
    }
}

extension KnowledgeGraph.SpanBrief: StateCodable {
    func encode(to w: inout StateWriter) { service.encode(to: &w); durationNanos.encode(to: &w); kind.rawValue.encode(to: &w) }
    static func decode(from r: inout StateReader) throws -> KnowledgeGraph.SpanBrief {
        let service = try String.decode(from: &r), duration = try UInt64.decode(from: &r), raw = try UInt8.decode(from: &r)
        guard let kind = ObservedSpan.Kind(rawValue: raw) else { throw StateDecodingError("span kind \(raw)") }
        return KnowledgeGraph.SpanBrief(service: service, durationNanos: duration, kind: kind)
    }
}

extension KnowledgeGraph: StateCodable {
    public func encode(to w: inout StateWriter) {
        config.windowMillis.encode(to: &w); config.retainedWindows.encode(to: &w); config.allowedLatenessMillis.encode(to: &w)
        open.encode(to: &w); closed.encode(to: &w); previousSpans.encode(to: &w); lateRecords.encode(to: &w); assembledUpTo.encode(to: &w)
        eventNames.encode(to: &w)
    }
    public static func decode(from r: inout StateReader) throws -> KnowledgeGraph {
        let config = KnowledgeGraphConfig(windowMillis: try .decode(from: &r), retainedWindows: try .decode(from: &r), allowedLatenessMillis: try .decode(from: &r))
        guard config.windowMillis > 0, config.retainedWindows > 0 else { throw StateDecodingError("knowledge graph: window \(config.windowMillis) ms, \(config.retainedWindows) kept") }
        var g = KnowledgeGraph(config: config)
        g.open = try .decode(from: &r); g.closed = try .decode(from: &r); g.previousSpans = try .decode(from: &r)
        g.lateRecords = try .decode(from: &r); g.assembledUpTo = try .decode(from: &r)
        g.eventNames = try .decode(from: &r)
        return g
    }
}

extension RawLog: StateCodable {
    public func encode(to w: inout StateWriter) {
        timeNanos.encode(to: &w); service.encode(to: &w); pod.encode(to: &w); spanID.encode(to: &w)
        text.encode(to: &w); codeLocation.encode(to: &w); isError.encode(to: &w)
    }
    public static func decode(from r: inout StateReader) throws -> RawLog {
        RawLog(timeNanos: try .decode(from: &r), service: try .decode(from: &r), pod: try .decode(from: &r), spanID: try .decode(from: &r),
               text: try .decode(from: &r), codeLocation: try .decode(from: &r), isError: try .decode(from: &r))
    }
}
