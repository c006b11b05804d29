/// An operator's output (main or side). Records go straight to the wired `push` closure: a
/// chained operator's input, a record writer, or a fan-out over several of them. No queue,
/// no allocation, no existential per record.
public final class Output<T> {
    @usableFromInline var push: (T, Timestamp) throws -> Void = { _, _ in }
    var targets: [ControlTarget] = []
    /// Records emitted to an output nothing consumes (e.g. a side output never selected).
    public private(set) var unconnectedRecords = 0
    public private(set) var isConnected = false

    public init() {}

    @inlinable @inline(__always)
    public func emit(_ value: T, timestamp: Timestamp) throws {
        try push(value, timestamp)
    }

    func connect(_ pushes: [Push<T>], _ controls: [ControlTarget]) {
        targets = controls
        isConnected = !pushes.isEmpty
        switch pushes.count {
        case 0:
            push = { [unowned self] _, _ in self.unconnectedRecords += 1 }
        case 1:
            push = pushes[0].call
        default:
            let calls = pushes.map(\.call)
            push = { value, ts in for call in calls { try call(value, ts) } }
        }
    }

    func forwardWatermark(_ watermark: Timestamp) throws {
        for t in targets { try t.sink.processWatermark(watermark, input: t.input) }
    }
    func forwardWatermarkStatus(idle: Bool) throws {
        for t in targets { try t.sink.processWatermarkStatus(idle: idle, input: t.input) }
    }
    func forwardEndInput() throws {
        for t in targets { try t.sink.endInput(t.input) }
    }
}
