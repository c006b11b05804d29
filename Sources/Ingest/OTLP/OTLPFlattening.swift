import Foundation
import OTLPProto

// From the generated OTLP messages to Vigil's flat records. One `TelemetryOrigin` per scope.

typealias ProtoKeyValue = Opentelemetry_Proto_Common_V1_KeyValue
typealias ProtoAnyValue = Opentelemetry_Proto_Common_V1_AnyValue

extension AttributeValue {
    init(_ v: ProtoAnyValue) {
        switch v.value {
        case nil: self = .empty
        case .stringValue(let s)?: self = .string(s)
        case .boolValue(let b)?: self = .bool(b)
        case .intValue(let i)?: self = .int(i)
        case .doubleValue(let d)?: self = .double(d)
        case .bytesValue(let d)?: self = .bytes([UInt8](d))
        case .arrayValue(let a)?: self = .array(a.values.map(AttributeValue.init))
        case .kvlistValue(let kv)?: self = .keyValues(kv.values.map(Attribute.init))
        // A reference into a profile's string table: only profiles use it.
        case .stringValueStrindex(let i)?: self = .int(Int64(i))
        }
    }
}

extension Attribute {
    init(_ kv: ProtoKeyValue) { self.init(kv.key, AttributeValue(kv.value)) }
}

func attributes(_ kvs: [ProtoKeyValue]) -> [Attribute] {
    var out: [Attribute] = []
    out.reserveCapacity(kvs.count)
    for kv in kvs { out.append(Attribute(kv)) }
    return out
}

extension TraceID {
    /// From OTLP bytes; `nil` unless empty or 16 bytes.
    init?(otlp d: Data) {
        if d.isEmpty { self = .none; return }
        guard d.count == 16 else { return nil }
        var high: UInt64 = 0, low: UInt64 = 0
        for (i, b) in d.enumerated() {
            if i < 8 { high = high << 8 | UInt64(b) } else { low = low << 8 | UInt64(b) }
        }
        self.init(high: high, low: low)
    }
}

extension SpanID {
    init?(otlp d: Data) {
        if d.isEmpty { self = .none; return }
        guard d.count == 8 else { return nil }
        self.init(d.reduce(0) { $0 << 8 | UInt64($1) })
    }
}

/// A message that is valid protobuf but not valid OTLP (e.g. a 5-byte trace id).
public struct OTLPFormatError: Error, CustomStringConvertible {
    public var description: String
}

func traceID(_ d: Data, _ what: String) throws -> TraceID {
    guard let id = TraceID(otlp: d) else { throw OTLPFormatError(description: "\(what): trace id of \(d.count) bytes (OTLP requires 16)") }
    return id
}

func spanID(_ d: Data, _ what: String) throws -> SpanID {
    guard let id = SpanID(otlp: d) else { throw OTLPFormatError(description: "\(what): span id of \(d.count) bytes (OTLP requires 8)") }
    return id
}

func origin(_ resource: Opentelemetry_Proto_Resource_V1_Resource, resourceSchemaURL: String,
            _ scope: Opentelemetry_Proto_Common_V1_InstrumentationScope, scopeSchemaURL: String) -> TelemetryOrigin {
    TelemetryOrigin(resourceAttributes: attributes(resource.attributes), resourceSchemaURL: resourceSchemaURL,
                    scopeName: scope.name, scopeVersion: scope.version, scopeAttributes: attributes(scope.attributes),
                    scopeSchemaURL: scopeSchemaURL)
}

enum OTLPFlatten {
    static func logs(_ request: Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest) throws -> [LogRecord] {
        var out: [LogRecord] = []
        for rl in request.resourceLogs {
            for sl in rl.scopeLogs {
                let o = origin(rl.resource, resourceSchemaURL: rl.schemaURL, sl.scope, scopeSchemaURL: sl.schemaURL)
                for l in sl.logRecords {
                    out.append(LogRecord(
                        timeUnixNano: l.timeUnixNano, observedTimeUnixNano: l.observedTimeUnixNano,
                        severityNumber: Int32(clamping: l.severityNumber.rawValue), severityText: l.severityText,
                        body: l.hasBody ? AttributeValue(l.body) : .empty, attributes: attributes(l.attributes),
                        droppedAttributesCount: l.droppedAttributesCount, flags: l.flags,
                        traceID: try traceID(l.traceID, "log record"), spanID: try spanID(l.spanID, "log record"),
                        eventName: l.eventName, origin: o))
                }
            }
        }
        return out
    }

    static func metricPoints(_ request: Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest) -> [MetricPoint] {
        var out: [MetricPoint] = []
        for rm in request.resourceMetrics {
            for sm in rm.scopeMetrics {
                let o = origin(rm.resource, resourceSchemaURL: rm.schemaURL, sm.scope, scopeSchemaURL: sm.schemaURL)
                for m in sm.metrics {
                    func point(_ start: UInt64, _ time: UInt64, _ attrs: [ProtoKeyValue], _ flags: UInt32, _ value: MetricPoint.Value) {
                        out.append(MetricPoint(metricName: m.name, metricDescription: m.description_p, unit: m.unit,
                                               startTimeUnixNano: start, timeUnixNano: time, attributes: attributes(attrs),
                                               flags: flags, value: value, origin: o))
                    }
                    switch m.data {
                    case .gauge(let g)?:
                        for p in g.dataPoints {
                            let v: MetricPoint.Value = if case .asInt(let i)? = p.value { .gaugeInt(i) } else { .gauge(p.asDouble) }
                            point(p.startTimeUnixNano, p.timeUnixNano, p.attributes, p.flags, v)
                        }
                    case .sum(let s)?:
                        let t = temporality(s.aggregationTemporality)
                        for p in s.dataPoints {
                            let v: MetricPoint.Value = if case .asInt(let i)? = p.value {
                                .sumInt(i, temporality: t, monotonic: s.isMonotonic)
                            } else {
                                .sum(p.asDouble, temporality: t, monotonic: s.isMonotonic)
                            }
                            point(p.startTimeUnixNano, p.timeUnixNano, p.attributes, p.flags, v)
                        }
                    case .histogram(let h)?:
                        let t = temporality(h.aggregationTemporality)
                        for p in h.dataPoints {
                            point(p.startTimeUnixNano, p.timeUnixNano, p.attributes, p.flags,
                                  .histogram(count: p.count, sum: p.hasSum ? p.sum : nil, min: p.hasMin ? p.min : nil,
                                             max: p.hasMax ? p.max : nil, bounds: p.explicitBounds, counts: p.bucketCounts,
                                             temporality: t))
                        }
                    case .exponentialHistogram(let h)?:
                        let t = temporality(h.aggregationTemporality)
                        for p in h.dataPoints {
                            point(p.startTimeUnixNano, p.timeUnixNano, p.attributes, p.flags,
                                  .exponentialHistogram(count: p.count, sum: p.hasSum ? p.sum : nil, min: p.hasMin ? p.min : nil,
                                                        max: p.hasMax ? p.max : nil, scale: p.scale, zeroCount: p.zeroCount,
                                                        zeroThreshold: p.zeroThreshold,
                                                        positive: .init(offset: p.positive.offset, counts: p.positive.bucketCounts),
                                                        negative: .init(offset: p.negative.offset, counts: p.negative.bucketCounts),
                                                        temporality: t))
                        }
                    case .summary(let s)?:
                        for p in s.dataPoints {
                            point(p.startTimeUnixNano, p.timeUnixNano, p.attributes, p.flags,
                                  .summary(count: p.count, sum: p.sum,
                                           quantiles: p.quantileValues.map { .init(quantile: $0.quantile, value: $0.value) }))
                        }
                    case nil:
                        break
                    }
                }
            }
        }
        return out
    }

    static func temporality(_ t: Opentelemetry_Proto_Metrics_V1_AggregationTemporality) -> MetricPoint.Temporality {
        switch t {
        case .delta: .delta
        case .cumulative: .cumulative
        default: .unspecified
        }
    }
}
