import Foundation

/// Records as one-line JSON, for `vigil otlp-dump`, files and topics. Ids are hex, times are
/// nanoseconds since the epoch, attribute values are tagged with their OTLP kind
/// (`{"string": "x"}`, `{"int": 3}`, …) so nothing is lost in the round trip.
public enum TelemetryJSON {
    public static func line(_ s: SpanRecord) -> String {
        var o = JSONObjectWriter()
        o.field("trace_id", s.traceID.description)
        o.field("span_id", s.spanID.description)
        o.field("parent_span_id", s.parentSpanID == .none ? "" : s.parentSpanID.description)
        o.field("trace_state", s.traceState)
        o.field("flags", Int64(s.flags))
        o.field("name", s.name)
        o.field("kind", Int64(s.kind.rawValue))
        o.field("start_time_unix_nano", s.startTimeUnixNano)
        o.field("end_time_unix_nano", s.endTimeUnixNano)
        o.raw("attributes", attributes(s.attributes))
        o.raw("events", "[" + s.events.map { e in
            var w = JSONObjectWriter()
            w.field("time_unix_nano", e.timeUnixNano)
            w.field("name", e.name)
            w.raw("attributes", attributes(e.attributes))
            return w.finish()
        }.joined(separator: ",") + "]")
        o.raw("links", "[" + s.links.map { l in
            var w = JSONObjectWriter()
            w.field("trace_id", l.traceID.description)
            w.field("span_id", l.spanID.description)
            w.raw("attributes", attributes(l.attributes))
            return w.finish()
        }.joined(separator: ",") + "]")
        o.field("status_code", Int64(s.statusCode.rawValue))
        o.field("status_message", s.statusMessage)
        origin(s.origin, into: &o)
        return o.finish()
    }

    public static func line(_ l: LogRecord) -> String {
        var o = JSONObjectWriter()
        o.field("time_unix_nano", l.timeUnixNano)
        o.field("observed_time_unix_nano", l.observedTimeUnixNano)
        o.field("severity_number", Int64(l.severityNumber))
        o.field("severity_text", l.severityText)
        o.raw("body", value(l.body))
        o.raw("attributes", attributes(l.attributes))
        o.field("flags", Int64(l.flags))
        o.field("trace_id", l.traceID == .none ? "" : l.traceID.description)
        o.field("span_id", l.spanID == .none ? "" : l.spanID.description)
        o.field("event_name", l.eventName)
        origin(l.origin, into: &o)
        return o.finish()
    }

    public static func line(_ p: MetricPoint) -> String {
        var o = JSONObjectWriter()
        o.field("name", p.metricName)
        o.field("description", p.metricDescription)
        o.field("unit", p.unit)
        o.field("start_time_unix_nano", p.startTimeUnixNano)
        o.field("time_unix_nano", p.timeUnixNano)
        o.raw("attributes", attributes(p.attributes))
        var v = JSONObjectWriter()
        switch p.value {
        case .gauge(let d): v.field("type", "gauge"); v.field("as_double", d)
        case .gaugeInt(let i): v.field("type", "gauge"); v.field("as_int", i)
        case .sum(let d, let t, let m):
            v.field("type", "sum"); v.field("as_double", d); v.field("temporality", Int64(t.rawValue)); v.field("monotonic", m)
        case .sumInt(let i, let t, let m):
            v.field("type", "sum"); v.field("as_int", i); v.field("temporality", Int64(t.rawValue)); v.field("monotonic", m)
        case .histogram(let count, let sum, let min, let max, let bounds, let counts, let t):
            v.field("type", "histogram"); v.field("count", count)
            if let sum { v.field("sum", sum) }
            if let min { v.field("min", min) }
            if let max { v.field("max", max) }
            v.raw("explicit_bounds", "[" + bounds.map(jsonNumber).joined(separator: ",") + "]")
            v.raw("bucket_counts", "[" + counts.map(String.init).joined(separator: ",") + "]")
            v.field("temporality", Int64(t.rawValue))
        case .exponentialHistogram(let count, let sum, let min, let max, let scale, let zeroCount, let zeroThreshold,
                                   let positive, let negative, let t):
            v.field("type", "exponential_histogram"); v.field("count", count)
            if let sum { v.field("sum", sum) }
            if let min { v.field("min", min) }
            if let max { v.field("max", max) }
            v.field("scale", Int64(scale)); v.field("zero_count", zeroCount); v.field("zero_threshold", zeroThreshold)
            v.field("positive_offset", Int64(positive.offset))
            v.raw("positive_bucket_counts", "[" + positive.counts.map(String.init).joined(separator: ",") + "]")
            v.field("negative_offset", Int64(negative.offset))
            v.raw("negative_bucket_counts", "[" + negative.counts.map(String.init).joined(separator: ",") + "]")
            v.field("temporality", Int64(t.rawValue))
        case .summary(let count, let sum, let quantiles):
            v.field("type", "summary"); v.field("count", count); v.field("sum", sum)
            v.raw("quantiles", "[" + quantiles.map { "[\(jsonNumber($0.quantile)),\(jsonNumber($0.value))]" }.joined(separator: ",") + "]")
        }
        o.raw("value", v.finish())
        origin(p.origin, into: &o)
        return o.finish()
    }

    static func origin(_ origin: TelemetryOrigin, into o: inout JSONObjectWriter) {
        o.raw("resource", attributes(origin.resourceAttributes))
        o.field("scope_name", origin.scopeName)
        o.field("scope_version", origin.scopeVersion)
    }

    public static func attributes(_ attrs: [Attribute]) -> String {
        var o = JSONObjectWriter()
        for a in attrs { o.raw(a.key, value(a.value)) }
        return o.finish()
    }

    public static func value(_ v: AttributeValue) -> String {
        switch v {
        case .empty: return "null"
        case .string(let s): return "{\"string\":\(jsonString(s))}"
        case .bool(let b): return "{\"bool\":\(b)}"
        case .int(let i): return "{\"int\":\(i)}"
        case .double(let d): return "{\"double\":\(jsonNumber(d))}"
        case .bytes(let b): return "{\"bytes\":\(jsonString(Data(b).base64EncodedString()))}"
        case .array(let a): return "{\"array\":[" + a.map(value).joined(separator: ",") + "]}"
        case .keyValues(let kv): return "{\"kvlist\":\(attributes(kv))}"
        }
    }
}

/// Builds one JSON object, fields in insertion order.
struct JSONObjectWriter {
    private var text = "{"
    private var first = true

    private mutating func key(_ k: String) {
        if !first { text += "," }
        first = false
        text += jsonString(k) + ":"
    }
    mutating func raw(_ k: String, _ json: String) { key(k); text += json }
    mutating func field(_ k: String, _ v: String) { key(k); text += jsonString(v) }
    mutating func field(_ k: String, _ v: Int64) { key(k); text += String(v) }
    mutating func field(_ k: String, _ v: UInt64) { key(k); text += String(v) }
    mutating func field(_ k: String, _ v: Double) { key(k); text += jsonNumber(v) }
    mutating func field(_ k: String, _ v: Bool) { key(k); text += v ? "true" : "false" }
    func finish() -> String { text + "}" }
}

func jsonNumber(_ d: Double) -> String {
    if d.isNaN { return "\"NaN\"" }
    if d.isInfinite { return d > 0 ? "\"Infinity\"" : "\"-Infinity\"" }
    return "\(d)"
}

func jsonString(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
        default: out.unicodeScalars.append(u)
        }
    }
    return out + "\""
}
