import Foundation
import Ingest
import OTLPProto
import RCA

/// Replays a case's telemetry the way it reaches Vigil in production: each record written as
/// an OTLP export request (protobuf, as the Collector's Kafka exporter writes it), decoded by
/// Vigil's OTLP decoders, and converted to what the graph takes, as the live job does.
public enum OTLPReplay {
    /// Records per export request (the Collector batches too).
    static let batch = 200

    public static func throughOTLP(_ c: RCACase) throws -> RCACase {
        var out: [ReplayRecord] = []
        out.reserveCapacity(c.records.count)
        var spans: [ObservedSpan] = [], logs: [RawLog] = [], metrics: [ObservedMetric] = []
        func flush() throws {
            if !spans.isEmpty { out += try decodeSpans(try encodeSpans(spans)).map(ReplayRecord.span); spans.removeAll() }
            if !logs.isEmpty { out += try decodeLogs(try encodeLogs(logs)).map(ReplayRecord.log); logs.removeAll() }
            if !metrics.isEmpty { out += try decodeMetrics(try encodeMetrics(metrics)).map(ReplayRecord.metric); metrics.removeAll() }
        }
        for r in c.records {
            switch r {
            case .span(let s): spans.append(s)
            case .log(let l): logs.append(l)
            case .metric(let m): metrics.append(m)
            }
            if spans.count + logs.count + metrics.count >= batch { try flush() }
        }
        try flush()
        var replayed = c
        // Decoding keeps each request's order; requests interleave kinds, so restore time order.
        replayed.records = out.enumerated().sorted { ($0.element.timeNanos, $0.offset) < ($1.element.timeNanos, $1.offset) }.map(\.element)
        return replayed
    }

    static func resource(service: String, pod: String, host: String = "") -> Opentelemetry_Proto_Resource_V1_Resource {
        var r = Opentelemetry_Proto_Resource_V1_Resource()
        r.attributes = [keyValue("service.name", service)]
        if !pod.isEmpty { r.attributes.append(keyValue("k8s.pod.name", pod)) }
        if !host.isEmpty { r.attributes.append(keyValue("host.name", host)) }
        return r
    }

    static func keyValue(_ key: String, _ value: String) -> Opentelemetry_Proto_Common_V1_KeyValue {
        var kv = Opentelemetry_Proto_Common_V1_KeyValue()
        kv.key = key
        kv.value.stringValue = value
        return kv
    }

    static func id(_ v: UInt64) -> Data { v == 0 ? Data() : withUnsafeBytes(of: v.bigEndian) { Data($0) } }

    /// A client span's peer ("system/name") as the semantic conventions write it: `db.system`
    /// and `db.name`, or `messaging.system` and `messaging.destination.name` for a queue.
    static func peerAttributes(_ peer: String) -> [Opentelemetry_Proto_Common_V1_KeyValue] {
        guard !peer.isEmpty else { return [] }
        let parts = peer.split(separator: "/", maxSplits: 1).map(String.init)
        let messaging = ["kafka", "rabbitmq", "activemq", "rocketmq", "pulsar", "aws_sqs", "gcp_pubsub"].contains(parts[0])
        var out = [keyValue(messaging ? "messaging.system" : "db.system", parts[0])]
        if parts.count > 1 { out.append(keyValue(messaging ? "messaging.destination.name" : "db.name", parts[1])) }
        return out
    }

    /// One OTLP trace export request (protobuf) holding the spans, as the Collector writes it.
    public static func encodeSpans(_ spans: [ObservedSpan]) throws -> [UInt8] {
        var request = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest()
        request.resourceSpans = spans.map { s in
            var span = Opentelemetry_Proto_Trace_V1_Span()
            span.traceID = id(s.spanID) + id(s.spanID)
            span.spanID = id(s.spanID)
            span.parentSpanID = id(s.parentSpanID)
            span.name = s.operation
            span.kind = Opentelemetry_Proto_Trace_V1_Span.SpanKind(rawValue: Int(s.kind.rawValue)) ?? .unspecified
            span.startTimeUnixNano = s.startNanos
            span.endTimeUnixNano = s.startNanos + s.durationNanos
            if s.isError { span.status.code = .error }
            span.attributes = peerAttributes(s.peer)
            var scope = Opentelemetry_Proto_Trace_V1_ScopeSpans()
            scope.spans = [span]
            var rs = Opentelemetry_Proto_Trace_V1_ResourceSpans()
            rs.resource = resource(service: s.service, pod: s.pod, host: s.host)
            rs.scopeSpans = [scope]
            return rs
        }
        return try request.serializedBytes()
    }

    /// One OTLP logs export request (protobuf) holding the lines.
    public static func encodeLogs(_ logs: [RawLog]) throws -> [UInt8] {
        var request = Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest()
        request.resourceLogs = logs.map { l in
            var record = Opentelemetry_Proto_Logs_V1_LogRecord()
            record.timeUnixNano = l.timeNanos
            record.body.stringValue = l.text
            record.severityNumber = l.isError ? .error : .info
            record.spanID = id(l.spanID)
            var scope = Opentelemetry_Proto_Logs_V1_ScopeLogs()
            scope.logRecords = [record]
            var rl = Opentelemetry_Proto_Logs_V1_ResourceLogs()
            rl.resource = resource(service: l.service, pod: l.pod)
            rl.scopeLogs = [scope]
            return rl
        }
        return try request.serializedBytes()
    }

    /// One OTLP metrics export request (protobuf) holding the readings as gauges.
    public static func encodeMetrics(_ metrics: [ObservedMetric]) throws -> [UInt8] {
        var request = Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest()
        request.resourceMetrics = metrics.map { m in
            var point = Opentelemetry_Proto_Metrics_V1_NumberDataPoint()
            point.timeUnixNano = m.timeNanos
            point.asDouble = m.value
            var metric = Opentelemetry_Proto_Metrics_V1_Metric()
            metric.name = m.name
            metric.gauge.dataPoints = [point]
            var scope = Opentelemetry_Proto_Metrics_V1_ScopeMetrics()
            scope.metrics = [metric]
            var rm = Opentelemetry_Proto_Metrics_V1_ResourceMetrics()
            rm.resource = m.entity.kind == .pod ? resource(service: "", pod: m.entity.name) : resource(service: m.entity.name, pod: "")
            rm.scopeMetrics = [scope]
            return rm
        }
        return try request.serializedBytes()
    }

    static func message(_ bytes: [UInt8], _ body: (KafkaMessage) throws -> Void) rethrows {
        try bytes.withUnsafeBytes { try body(KafkaMessage(topic: "replay", partition: 0, offset: 0, timestamp: nil, key: nil, value: $0)) }
    }

    static func decodeSpans(_ bytes: [UInt8]) throws -> [ObservedSpan] {
        var out: [ObservedSpan] = []
        var decoder = OTLPSpanDecoder()
        try message(bytes) { m in try decoder.decode(m) { span, _ in out.append(ObservedSpan(span: span)) } }
        return out
    }

    static func decodeLogs(_ bytes: [UInt8]) throws -> [RawLog] {
        var out: [RawLog] = []
        var decoder = OTLPLogDecoder()
        try message(bytes) { m in try decoder.decode(m) { log, _ in out.append(RawLog(log: log)) } }
        return out
    }

    static func decodeMetrics(_ bytes: [UInt8]) throws -> [ObservedMetric] {
        var out: [ObservedMetric] = []
        var decoder = OTLPMetricDecoder()
        try message(bytes) { m in try decoder.decode(m) { point, _ in if let o = ObservedMetric(point: point) { out.append(o) } } }
        return out
    }
}
