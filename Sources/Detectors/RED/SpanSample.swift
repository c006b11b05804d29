/// What RED metrics need of a span: who served it, which operation, how long, and whether it
/// failed. Converted from OTLP spans by the ingest side (service from the resource's
/// `service.name`, operation from `http.route` when present, else the span name), so the
/// detectors do not depend on the wire format.
public struct SpanSample: Sendable, Equatable {
    public var service: String
    public var operation: String
    /// Span end, milliseconds since 1970: the moment the request's outcome is known.
    public var endTime: Int64
    public var durationNanos: UInt64
    public var isError: Bool

    public init(service: String, operation: String, endTime: Int64, durationNanos: UInt64, isError: Bool) {
        self.service = service
        self.operation = operation
        self.endTime = endTime
        self.durationNanos = durationNanos
        self.isError = isError
    }
}
