import Stream

/// How the knowledge graph slices time and how much of it it keeps.
public struct KnowledgeGraphConfig: Sendable, Equatable {
    public var windowMillis: Int64
    /// Closed windows kept; older ones are dropped, so memory is bounded by this many windows.
    public var retainedWindows: Int
    /// A window is assembled once the watermark is this far past its end, so that late spans
    /// and the logs of its spans written after it ended still count.
    public var allowedLatenessMillis: Int64

    public init(windowMillis: Int64 = 60_000, retainedWindows: Int = 60, allowedLatenessMillis: Int64 = 5_000) {
        self.windowMillis = windowMillis
        self.retainedWindows = retainedWindows
        self.allowedLatenessMillis = allowedLatenessMillis
    }
}

/// The live knowledge graph: spans, logs and metrics go in as they arrive (any order within the
/// allowed lateness); as the watermark passes, each window's spans are joined to their parents
/// and their logs, and the window's graph (`GraphWindow`) is kept, up to `retainedWindows`.
///
/// Spans are buffered raw until their window closes because a span's parent, children and log
/// lines arrive in no particular order; a window holds one window's worth of traffic.
public struct KnowledgeGraph: Sendable {
    public let config: KnowledgeGraphConfig
    var open: [Int64: PendingWindow] = [:]
    public internal(set) var closed: [GraphWindow] = []
    /// The spans of the last assembled window, for children whose parent started before their
    /// window did.
    var previousSpans: [UInt64: SpanBrief] = [:]
    /// Records that arrived after their window was assembled (they are counted nowhere else).
    public internal(set) var lateRecords = 0
    /// Readable names of log events, as far as they were sent (`ObservedLog.name`); at most
    /// `maxEventNames`, the first ones kept.
    public internal(set) var eventNames: [UInt64: String] = [:]
    public static let maxEventNames = 50_000

    public init(config: KnowledgeGraphConfig = KnowledgeGraphConfig()) {
        self.config = config
    }

    struct PendingWindow: Sendable {
        var spans: [ObservedSpan] = []
        var logs: [ObservedLog] = []
        var metrics: [MetricKey: MetricSummary] = [:]
    }

    struct SpanBrief: Sendable {
        var service: String
        var durationNanos: UInt64
        var kind: ObservedSpan.Kind
    }

    var assembledUpTo = Int64.min

    func windowStart(_ millis: Int64) -> Int64 {
        let w = config.windowMillis
        return millis >= 0 ? millis / w * w : ((millis + 1) / w - 1) * w
    }

    public mutating func add(_ span: ObservedSpan) {
        let start = windowStart(Int64(span.startNanos / 1_000_000))
        guard start >= assembledUpTo else { lateRecords += 1; return }
        open[start, default: PendingWindow()].spans.append(span)
    }

    public mutating func add(_ log: ObservedLog) {
        if let name = log.name, eventNames.count < Self.maxEventNames, eventNames[log.templateID] == nil { eventNames[log.templateID] = name }
        let start = windowStart(Int64(log.timeNanos / 1_000_000))
        guard start >= assembledUpTo else { lateRecords += 1; return }
        open[start, default: PendingWindow()].logs.append(log)
    }

    public mutating func add(_ metric: ObservedMetric) {
        let start = windowStart(Int64(metric.timeNanos / 1_000_000))
        guard start >= assembledUpTo else { lateRecords += 1; return }
        open[start, default: PendingWindow()].metrics[MetricKey(entity: metric.entity, name: metric.name), default: MetricSummary()].add(metric.value)
    }

    /// Assembles every window the watermark has passed (by the allowed lateness) and returns
    /// them, oldest first.
    @discardableResult
    public mutating func advance(toWatermark millis: Int64) -> [GraphWindow] {
        var done: [GraphWindow] = []
        for start in open.keys.sorted() where start + config.windowMillis + config.allowedLatenessMillis <= millis {
            done.append(assemble(start))
        }
        return done
    }

    /// Assembles every buffered window (end of input).
    @discardableResult
    public mutating func flush() -> [GraphWindow] {
        open.keys.sorted().map { assemble($0) }
    }

    /// The union of the retained windows that overlap [from, to).
    public func window(from: Int64, to: Int64) -> GraphWindow? {
        GraphWindow.merged(closed.filter { $0.end > from && $0.start < to })
    }

    private mutating func assemble(_ start: Int64) -> GraphWindow {
        guard var pending = open.removeValue(forKey: start) else { return GraphWindow(start: start, end: start + config.windowMillis) }
        // Lines written by this window's spans after the window ended sit in the next one.
        let next = start + config.windowMillis
        if var following = open[next], !following.logs.isEmpty {
            let ids = Set(pending.spans.lazy.map(\.spanID))
            var kept: [ObservedLog] = []
            for log in following.logs {
                if log.spanID != 0, ids.contains(log.spanID) { pending.logs.append(log) } else { kept.append(log) }
            }
            following.logs = kept
            open[next] = following
        }
        var window = WindowAssembler.assemble(pending, start: start, end: next, previousSpans: previousSpans)
        window.metrics = pending.metrics  // the assembler leaves metrics to this: no merge, no copy
        previousSpans = Dictionary(pending.spans.map { ($0.spanID, SpanBrief(service: $0.service, durationNanos: $0.durationNanos, kind: $0.kind)) },
                                   uniquingKeysWith: { a, _ in a })
        assembledUpTo = max(assembledUpTo, next)
        closed.append(window)
        closed.sort { $0.start < $1.start }
        if closed.count > config.retainedWindows { closed.removeFirst(closed.count - config.retainedWindows) }
        return window
    }
}
