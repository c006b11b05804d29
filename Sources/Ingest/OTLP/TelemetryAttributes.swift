/// An attribute value as OTLP's AnyValue has it.
public indirect enum AttributeValue: Sendable, Hashable {
    case empty
    case string(String)
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case bytes([UInt8])
    case array([AttributeValue])
    case keyValues([Attribute])
}

public struct Attribute: Sendable, Hashable {
    public var key: String
    public var value: AttributeValue
    public init(_ key: String, _ value: AttributeValue) {
        self.key = key
        self.value = value
    }
}

extension Array where Element == Attribute {
    /// The value of the first attribute with this key.
    public subscript(key: String) -> AttributeValue? {
        first { $0.key == key }?.value
    }
    /// The string value of `key`, if it is a string.
    public func string(_ key: String) -> String? {
        if case .string(let s)? = self[key] { return s }
        return nil
    }
}

/// A 16-byte trace id, big-endian in two words (zero: none).
public struct TraceID: Sendable, Hashable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }
    public static let none = TraceID(high: 0, low: 0)
    public var description: String { hex16(high) + hex16(low) }
}

/// An 8-byte span id (zero: none).
public struct SpanID: Sendable, Hashable, CustomStringConvertible {
    public var value: UInt64
    public init(_ value: UInt64) { self.value = value }
    public static let none = SpanID(0)
    public var description: String { hex16(value) }
}

func hex16(_ v: UInt64) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: 16 - s.count) + s
}

/// Where telemetry came from: its resource (service.name, host.name, …) and instrumentation
/// scope. Shared by every record of one scope in a message, not copied per record.
public final class TelemetryOrigin: Sendable {
    public let resourceAttributes: [Attribute]
    public let resourceSchemaURL: String
    public let scopeName: String
    public let scopeVersion: String
    public let scopeAttributes: [Attribute]
    public let scopeSchemaURL: String

    public init(resourceAttributes: [Attribute], resourceSchemaURL: String = "", scopeName: String = "",
                scopeVersion: String = "", scopeAttributes: [Attribute] = [], scopeSchemaURL: String = "") {
        self.resourceAttributes = resourceAttributes
        self.resourceSchemaURL = resourceSchemaURL
        self.scopeName = scopeName
        self.scopeVersion = scopeVersion
        self.scopeAttributes = scopeAttributes
        self.scopeSchemaURL = scopeSchemaURL
    }

    /// `service.name` of the resource ("" when missing).
    public var serviceName: String { resourceAttributes.string("service.name") ?? "" }
}
