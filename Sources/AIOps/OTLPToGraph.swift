import Ingest
import RCA

// What the knowledge graph takes from OTLP records, as the semantic conventions name it.

extension ObservedSpan {
    /// The span's service (`service.name`), pod (`k8s.pod.name`, else `container.id`, else
    /// `process.pid`), host (`k8s.node.name`, else `host.name`) and, for client and producer
    /// spans, the database or queue it talks to (`db.system`/`db.name`, or
    /// `messaging.system`/`messaging.destination.name`).
    public init(span: SpanRecord) {
        let resource = span.origin.resourceAttributes
        var peer = ""
        if span.kind == .client || span.kind == .producer {
            if let system = span.attribute("db.system")?.text {
                peer = [system, span.attribute("db.name")?.text ?? span.attribute("db.namespace")?.text]
                    .compactMap { $0 }.joined(separator: "/")
            } else if let system = span.attribute("messaging.system")?.text {
                peer = [system, span.attribute("messaging.destination.name")?.text].compactMap { $0 }.joined(separator: "/")
            }
        }
        self.init(service: span.origin.serviceName, operation: span.name,
                  pod: resource.string("k8s.pod.name") ?? resource.string("container.id") ?? resource.string("process.pid") ?? "",
                  host: resource.string("k8s.node.name") ?? resource.string("host.name") ?? "",
                  peer: peer, spanID: span.spanID.value, parentSpanID: span.parentSpanID.value,
                  kind: Kind(rawValue: UInt8(span.kind.rawValue)) ?? .unspecified,
                  startNanos: span.startTimeUnixNano, durationNanos: span.durationNanos, isError: span.statusCode == .error)
    }
}

extension RawLog {
    /// The body as text; ERROR and FATAL severities (17 and up) are errors; the code location
    /// from `code.function` (or `code.namespace`) and `code.lineno`, else from a logback
    /// "LEVEL logger#line" prefix of the body.
    public init(log: LogRecord) {
        let resource = log.origin.resourceAttributes
        let text = log.bodyText
        var location = ""
        let attributes = log.attributes
        if let function = attributes.string("code.function") ?? attributes.string("code.function.name") ?? attributes.string("code.namespace") {
            let line = (attributes["code.lineno"] ?? attributes["code.line.number"]).map { "\($0.text ?? "")" } ?? ""
            location = line.isEmpty ? function : function + "#" + line
        } else {
            let fields = text.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
            if fields.count > 1, fields[1].contains("#") { location = String(fields[1]) }
        }
        self.init(timeNanos: log.timeUnixNano != 0 ? log.timeUnixNano : log.observedTimeUnixNano, service: log.origin.serviceName,
                  pod: resource.string("k8s.pod.name") ?? resource.string("container.id") ?? "", spanID: log.spanID.value,
                  text: text, codeLocation: location, isError: log.severityNumber >= 17)
    }
}

extension ObservedMetric {
    /// A gauge of the pod (`k8s.pod.name`) when the resource names one, else of the service;
    /// nil for points without a single value.
    public init?(point: MetricPoint) {
        guard let value = point.scalar, value.isFinite else { return nil }
        let resource = point.origin.resourceAttributes
        let entity = resource.string("k8s.pod.name").map { Entity(.pod, $0) } ?? .service(point.origin.serviceName)
        self.init(timeNanos: point.timeUnixNano, entity: entity, name: point.metricName, value: value)
    }
}

extension AttributeValue {
    /// A string, or a number written as one.
    fileprivate var text: String? {
        switch self {
        case .string(let s): s
        case .int(let i): String(i)
        case .double(let d): String(d)
        case .bool(let b): String(b)
        default: nil
        }
    }
}
