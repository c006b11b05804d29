/// What RED metrics need of a span: who served it, which operation, how long, and whether it
/// failed. `vigil red` converts OTLP spans (service from the resource's `service.name`,
/// operation from `http.route` when present, else the span name), so the detectors do not
/// depend on the wire format.
public struct SpanSample: Sendable, Equatable, Codable {
    public var service: String
    public var operation: String
    /// Span start, milliseconds since 1970: its event time, by which windows count it (as the
    /// OTLP span decoder timestamps spans).
    public var startTime: Int64
    public var durationNanos: UInt64
    public var isError: Bool

    public init(service: String, operation: String, startTime: Int64, durationNanos: UInt64, isError: Bool) {
        self.service = service
        self.operation = operation
        self.startTime = startTime
        self.durationNanos = durationNanos
        self.isError = isError
    }
}
