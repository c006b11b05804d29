/// One span of an OTLP trace export. The fixed-size fields are decoded when the message
/// arrives; names, attributes, events and links stay in the message's bytes (shared by all
/// spans of the message, one copy per message) and are decoded when asked for — so the
/// records that flow through the job carry no per-span heap allocations.
public struct SpanRecord: Sendable {
    public enum Kind: Int8, Sendable { case unspecified = 0, `internal`, server, client, producer, consumer }
    public enum StatusCode: Int8, Sendable { case unset = 0, ok, error }

    public struct Event: Sendable, Hashable {
        public var timeUnixNano: UInt64
        public var name: String
        public var attributes: [Attribute]
    }

    public struct Link: Sendable, Hashable {
        public var traceID: TraceID
        public var spanID: SpanID
        public var traceState: String
        public var attributes: [Attribute]
        public var flags: UInt32
    }

    public var traceID: TraceID
    public var spanID: SpanID
    public var parentSpanID: SpanID
    public var flags: UInt32
    public var kind: Kind
    public var startTimeUnixNano: UInt64
    public var endTimeUnixNano: UInt64
    public var statusCode: StatusCode
    public var droppedAttributesCount: UInt32
    /// The resource and scope the span came with.
    public var origin: TelemetryOrigin { message.origins[Int(originIndex)] }
    /// The encoded message (which also holds the origins of its spans), and where this span and
    /// its strings are in it. One reference per span: retaining and releasing a second one (the
    /// origin) was a tenth of the cost of decoding a span.
    let message: OTLPMessageBytes
    let originIndex: Int32
    let span: ByteRange
    let nameAt: ByteRange
    let traceStateAt: ByteRange
    let statusMessageAt: ByteRange

    public var durationNanos: UInt64 { endTimeUnixNano >= startTimeUnixNano ? endTimeUnixNano - startTimeUnixNano : 0 }

    public var name: String { message.string(nameAt) }
    public var traceState: String { message.string(traceStateAt) }
    public var statusMessage: String { message.string(statusMessageAt) }
    public var attributes: [Attribute] { message.read { OTLPWire.attributes($0, span.range, field: 9) } }

    /// One attribute by key, without decoding the others.
    public func attribute(_ key: String) -> AttributeValue? {
        message.read { OTLPWire.attribute($0, span.range, field: 9, key: key) }
    }

    public var events: [Event] {
        message.read { b in
            OTLPTraceWire.repeatedMessages(b, span.range, field: 11).map { OTLPTraceWire.event(b, $0) }
        }
    }

    public var links: [Link] {
        message.read { b in
            OTLPTraceWire.repeatedMessages(b, span.range, field: 13).map { OTLPTraceWire.link(b, $0) }
        }
    }
}

/// A decoded span without its references: its origin as an index into the message's origins,
/// its message implied (`OTLPTraceWire.decode`). Becomes a `SpanRecord` when emitted.
struct SpanFields {
    var traceID: TraceID
    var spanID: SpanID
    var parentSpanID: SpanID
    var flags: UInt32
    var kind: SpanRecord.Kind
    var startTimeUnixNano: UInt64
    var endTimeUnixNano: UInt64
    var statusCode: SpanRecord.StatusCode
    var droppedAttributesCount: UInt32
    var origin: Int32
    var span: ByteRange
    var nameAt: ByteRange
    var traceStateAt: ByteRange
    var statusMessageAt: ByteRange
}

extension SpanRecord {
    init(_ f: SpanFields, message: OTLPMessageBytes) {
        self.init(traceID: f.traceID, spanID: f.spanID, parentSpanID: f.parentSpanID, flags: f.flags, kind: f.kind,
                  startTimeUnixNano: f.startTimeUnixNano, endTimeUnixNano: f.endTimeUnixNano, statusCode: f.statusCode,
                  droppedAttributesCount: f.droppedAttributesCount, message: message, originIndex: f.origin,
                  span: f.span, nameAt: f.nameAt, traceStateAt: f.traceStateAt, statusMessageAt: f.statusMessageAt)
    }
}

/// A byte range in a message, packed small.
struct ByteRange: Sendable {
    var start: Int32
    var end: Int32
    static let empty = ByteRange(start: 0, end: 0)
    init(start: Int32, end: Int32) {
        self.start = start
        self.end = end
    }
    init(_ r: Range<Int>) { self.init(start: Int32(r.lowerBound), end: Int32(r.upperBound)) }
    var range: Range<Int> { Int(start)..<Int(end) }
}

/// The bytes of one consumed message, shared by the records decoded from it.
final class OTLPMessageBytes: Sendable {
    let bytes: [UInt8]
    /// The resource/scope origins of the message's spans, which name them by index.
    let origins: [TelemetryOrigin]
    init(_ bytes: [UInt8], origins: [TelemetryOrigin] = []) {
        self.bytes = bytes
        self.origins = origins
    }

    @inline(__always)
    func read<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R { bytes.withUnsafeBytes(body) }

    func string(_ r: ByteRange) -> String {
        r.start == r.end ? "" : read { OTLPWire.string($0, r.range) }
    }
}

/// One log record, flattened from an OTLP logs export.
public struct LogRecord: Sendable {
    public var timeUnixNano: UInt64
    public var observedTimeUnixNano: UInt64
    /// OTLP SeverityNumber: 1–4 TRACE, 5–8 DEBUG, 9–12 INFO, 13–16 WARN, 17–20 ERROR, 21–24 FATAL.
    public var severityNumber: Int32
    public var severityText: String
    public var body: AttributeValue
    public var attributes: [Attribute]
    public var droppedAttributesCount: UInt32
    public var flags: UInt32
    public var traceID: TraceID
    public var spanID: SpanID
    public var eventName: String
    public var origin: TelemetryOrigin

    /// The body as text (a string body as is; other kinds described).
    public var bodyText: String {
        if case .string(let s) = body { return s }
        return "\(body)"
    }
}

/// One metric data point, flattened from an OTLP metrics export, with its metric's identity.
public struct MetricPoint: Sendable {
    public enum Temporality: Int8, Sendable { case unspecified = 0, delta, cumulative }

    public struct Quantile: Sendable, Hashable {
        public var quantile: Double
        public var value: Double
    }

    public struct Buckets: Sendable, Hashable {
        public var offset: Int32
        public var counts: [UInt64]
    }

    public enum Value: Sendable {
        case gauge(Double)
        case gaugeInt(Int64)
        case sum(Double, temporality: Temporality, monotonic: Bool)
        case sumInt(Int64, temporality: Temporality, monotonic: Bool)
        case histogram(count: UInt64, sum: Double?, min: Double?, max: Double?, bounds: [Double], counts: [UInt64],
                       temporality: Temporality)
        case exponentialHistogram(count: UInt64, sum: Double?, min: Double?, max: Double?, scale: Int32, zeroCount: UInt64,
                                  zeroThreshold: Double, positive: Buckets, negative: Buckets, temporality: Temporality)
        case summary(count: UInt64, sum: Double, quantiles: [Quantile])
    }

    public var metricName: String
    public var metricDescription: String
    public var unit: String
    public var startTimeUnixNano: UInt64
    public var timeUnixNano: UInt64
    public var attributes: [Attribute]
    public var flags: UInt32
    public var value: Value
    public var origin: TelemetryOrigin

    /// A single number for detectors: the gauge or sum value, a histogram's mean.
    public var scalar: Double? {
        switch value {
        case .gauge(let v), .sum(let v, _, _): return v
        case .gaugeInt(let v), .sumInt(let v, _, _): return Double(v)
        case .histogram(let count, let sum?, _, _, _, _, _), .exponentialHistogram(let count, let sum?, _, _, _, _, _, _, _, _):
            return count > 0 ? sum / Double(count) : nil
        case .summary(let count, let sum, _): return count > 0 ? sum / Double(count) : nil
        default: return nil
        }
    }
}
