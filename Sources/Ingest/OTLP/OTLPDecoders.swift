import Foundation
import OTLPProto
import Stream
import SwiftProtobuf

/// How the Collector's Kafka exporter encodes OTLP in a message value.
public enum OTLPEncoding: String, Sendable, CaseIterable {
    /// `otlp_proto`: an Export*ServiceRequest in protobuf binary (the Collector's default).
    case proto = "otlp_proto"
    /// `otlp_json`: the same message in OTLP/JSON (hex trace and span ids, enums as numbers).
    case json = "otlp_json"
}

/// Collector topic defaults.
public enum OTLPTopics {
    public static let spans = "otlp_spans"
    public static let metrics = "otlp_metrics"
    public static let logs = "otlp_logs"
}

/// Decodes an OTLP export request from a message value. The value is wrapped, not copied.
func decodeRequest<M: SwiftProtobuf.Message>(_ type: M.Type, _ value: UnsafeRawBufferPointer, _ encoding: OTLPEncoding) throws -> M {
    switch encoding {
    case .proto:
        guard let base = value.baseAddress else { return M() }
        let data = Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base), count: value.count, deallocator: .none)
        return try M(serializedBytes: data)
    case .json:
        var options = JSONDecodingOptions()
        options.ignoreUnknownFields = true
        return try M(jsonUTF8Bytes: try OTLPJSON.protobufJSON(value), options: options)
    }
}

/// Spans from the Collector's traces topic; event time is the span's start. Protobuf is read
/// in place (`OTLPTraceWire`); OTLP/JSON goes through swift-protobuf's JSON decoder and is then
/// read the same way.
public struct OTLPSpanDecoder: KafkaMessageDecoder {
    public let encoding: OTLPEncoding
    private var spans: [SpanFields] = []

    public init(encoding: OTLPEncoding = .proto) { self.encoding = encoding }

    public mutating func decode(_ message: KafkaMessage, emit: (SpanRecord, Timestamp) throws -> Void) throws {
        spans.removeAll(keepingCapacity: true)
        let bytes: OTLPMessageBytes
        switch encoding {
        case .proto:
            bytes = try OTLPTraceWire.decode(message.value, into: &spans)
        case .json:
            let request = try decodeRequest(Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest.self, message.value, .json)
            let binary: [UInt8] = try request.serializedBytes()
            bytes = try binary.withUnsafeBytes { try OTLPTraceWire.decode($0, into: &spans) }
        }
        // Each record is made as it is emitted: its message is retained once, for the record.
        // (Records kept in an array and then emitted were copied once more.)
        try spans.withUnsafeBufferPointer { all in
            for f in all {
                try emit(SpanRecord(f, message: bytes), Timestamp(f.startTimeUnixNano / 1_000_000))
            }
        }
    }
}

/// Log records from the Collector's logs topic; event time is the record's time, else the
/// time it was observed.
public struct OTLPLogDecoder: KafkaMessageDecoder {
    public let encoding: OTLPEncoding
    public init(encoding: OTLPEncoding = .proto) { self.encoding = encoding }

    public mutating func decode(_ message: KafkaMessage, emit: (LogRecord, Timestamp) throws -> Void) throws {
        let request = try decodeRequest(Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest.self, message.value, encoding)
        for log in try OTLPFlatten.logs(request) {
            let t = log.timeUnixNano != 0 ? log.timeUnixNano : log.observedTimeUnixNano
            try emit(log, Timestamp(t / 1_000_000))
        }
    }
}

/// Metric data points from the Collector's metrics topic; event time is the point's time.
public struct OTLPMetricDecoder: KafkaMessageDecoder {
    public let encoding: OTLPEncoding
    public init(encoding: OTLPEncoding = .proto) { self.encoding = encoding }

    public mutating func decode(_ message: KafkaMessage, emit: (MetricPoint, Timestamp) throws -> Void) throws {
        let request = try decodeRequest(Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest.self, message.value, encoding)
        for point in OTLPFlatten.metricPoints(request) {
            try emit(point, Timestamp(point.timeUnixNano / 1_000_000))
        }
    }
}
