/// What the knowledge graph needs of a span, independent of the wire format: the OTLP
/// decoder's records and the benchmark's CSV rows both convert to it.
public struct ObservedSpan: Sendable {
    public enum Kind: UInt8, Sendable { case unspecified, `internal`, server, client, producer, consumer }

    public var service: String
    public var operation: String
    /// `k8s.pod.name` (or the container or process) it ran in; empty when unknown.
    public var pod: String
    /// `host.name` / `k8s.node.name`; empty when unknown.
    public var host: String
    /// The database or messaging system a client or producer span talks to (from `db.system`
    /// and `db.name`, or `messaging.system` and `messaging.destination.name`); empty otherwise.
    public var peer: String
    /// The span id's 8 bytes, big-endian; 0 for none.
    public var spanID: UInt64
    /// 0 for a root span.
    public var parentSpanID: UInt64
    public var kind: Kind
    public var startNanos: UInt64
    public var durationNanos: UInt64
    public var isError: Bool

    public init(service: String, operation: String, pod: String = "", host: String = "", peer: String = "",
                spanID: UInt64, parentSpanID: UInt64, kind: Kind = .unspecified,
                startNanos: UInt64, durationNanos: UInt64, isError: Bool = false) {
        self.service = service
        self.operation = operation
        self.pod = pod
        self.host = host
        self.peer = peer
        self.spanID = spanID
        self.parentSpanID = parentSpanID
        self.kind = kind
        self.startNanos = startNanos
        self.durationNanos = durationNanos
        self.isError = isError
    }
}

/// A log line before template mining (the job mines it into an `ObservedLog`).
public struct RawLog: Sendable {
    public var timeNanos: UInt64
    public var service: String
    public var pod: String
    public var spanID: UInt64
    public var text: String
    /// Where in the code the line was written ("t.s.TravelServiceImpl#451"); empty when unknown.
    public var codeLocation: String
    public var isError: Bool

    public init(timeNanos: UInt64, service: String, pod: String, spanID: UInt64, text: String, codeLocation: String, isError: Bool) {
        self.timeNanos = timeNanos
        self.service = service
        self.pod = pod
        self.spanID = spanID
        self.text = text
        self.codeLocation = codeLocation
        self.isError = isError
    }
}

/// A log line after template mining: which event it is, and the span it was written in.
public struct ObservedLog: Sendable {
    public var timeNanos: UInt64
    public var service: String
    public var pod: String
    /// 0 when the line carries no span id.
    public var spanID: UInt64
    /// The log event: the template id, or `LogEvent.id(template:codeLocation:)` when the line
    /// says where in the code it was written.
    public var templateID: UInt64
    public var isError: Bool
    /// The event's readable name ("@logger#line template text"), sent with an event's first
    /// lines so that reports can say which line moved; nil on the rest.
    public var name: String?

    public init(timeNanos: UInt64, service: String, pod: String = "", spanID: UInt64, templateID: UInt64, isError: Bool, name: String? = nil) {
        self.timeNanos = timeNanos
        self.service = service
        self.pod = pod
        self.spanID = spanID
        self.templateID = templateID
        self.isError = isError
        self.name = name
    }
}

/// One gauge reading of an entity (a pod's CPU, a service's p99 latency, a component's
/// availability).
public struct ObservedMetric: Sendable {
    public var timeNanos: UInt64
    public var entity: Entity
    public var name: String
    public var value: Double

    public init(timeNanos: UInt64, entity: Entity, name: String, value: Double) {
        self.timeNanos = timeNanos
        self.entity = entity
        self.name = name
        self.value = value
    }
}

extension UInt64 {
    /// A span or trace id written as hex (the last 16 digits), as CSV exports and logs carry them;
    /// nil when it is not hex.
    public init?(spanIDHex s: Substring) {
        let tail = s.count > 16 ? s.suffix(16) : s
        guard !tail.isEmpty, let v = UInt64(tail, radix: 16) else { return nil }
        self = v
    }
}

/// What identifies a kind of log line for root-cause analysis. A template mined from the text
/// approximates the statement in the code that wrote the line, and it errs both ways: lines
/// from different statements merge once their numbers are masked ("calculate time: <*>" at
/// TravelServiceImpl lines 451 and 457 — and which of them a request reaches is exactly what a
/// code fault changes), and one statement printing a list of varying length splits into a
/// template per length. When a line says where in the code it was written (OTel's
/// `code.function` and `code.lineno`, or a logback `logger#line` field), that location is the
/// statement itself, and the event is keyed by it.
public enum LogEvent {
    public static func id(template: UInt64, codeLocation: String) -> UInt64 {
        guard !codeLocation.isEmpty else { return template }
        // FNV-1a: stable across processes, unlike Hasher.
        var h: UInt64 = 0xcbf29ce484222325
        for b in codeLocation.utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        // 0 and UInt64.max mark a span's start and end in transitions.
        return h == 0 || h == .max ? 1 : h
    }
}
