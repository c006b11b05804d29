/// A record and its event timestamp, as it travels in a batch between tasks.
public struct StreamRecord<T> {
    public var value: T
    public var timestamp: Timestamp
    @inlinable public init(_ value: T, timestamp: Timestamp) { self.value = value; self.timestamp = timestamp }
}
extension StreamRecord: Sendable where T: Sendable {}
extension StreamRecord: Equatable where T: Equatable {}
extension StreamRecord: Hashable where T: Hashable {}

/// The per-record entry point of an operator input (or of a record writer): a specialised
/// closure, boxed once at wiring time so it can be passed around type-erased.
public final class Push<T> {
    public let call: (T, Timestamp) throws -> Void
    /// A run of records with their timestamps in one call, where the target takes runs (a keyed
    /// record writer routes them in one loop); nil: one `call` per record.
    public let callRun: ((UnsafeBufferPointer<T>, UnsafePointer<Timestamp>) throws -> Void)?
    @inlinable public init(_ call: @escaping (T, Timestamp) throws -> Void) { self.call = call; self.callRun = nil }
    @inlinable public init(_ call: @escaping (T, Timestamp) throws -> Void,
                           runs: @escaping (UnsafeBufferPointer<T>, UnsafePointer<Timestamp>) throws -> Void) {
        self.call = call
        self.callRun = runs
    }
}

/// The non-record events that flow along an edge, in order with the records.
public protocol EventSink: AnyObject {
    func processWatermark(_ watermark: Timestamp, input: Int) throws
    func processWatermarkStatus(idle: Bool, input: Int) throws
    func endInput(_ input: Int) throws
}

/// Where an output's events go: a downstream operator's input, or a record writer.
public struct ControlTarget {
    public unowned let sink: any EventSink
    public let input: Int
    public init(sink: any EventSink, input: Int) { self.sink = sink; self.input = input }
}
