/// An operator's output (main or side). Records go straight to the wired `push` closure: a
/// chained operator's input, a record writer, or a fan-out over several of them. No queue,
/// no allocation, no existential per record.
public final class Output<T> {
    /// The wired target, reached without reference counting: a closure loaded from a `var`
    /// is retained and released around every call, which cost ~10% of the runtime benchmark.
    /// `keepAlive` owns it (and the writers and operators own what its closure reaches).
    @usableFromInline unowned(unsafe) var target: Push<T>
    private var keepAlive: Push<T>
    var targets: [ControlTarget] = []
    /// Records emitted to an output nothing consumes (e.g. a side output never selected).
    public private(set) var unconnectedRecords = 0
    public private(set) var isConnected = false

    public init() {
        let unconnected = Push<T> { _, _ in }
        keepAlive = unconnected
        target = unconnected
    }

    @inlinable @inline(__always)
    public func emit(_ value: T, timestamp: Timestamp) throws {
        try target.call(value, timestamp)
    }

    func connect(_ pushes: [Push<T>], _ controls: [ControlTarget]) {
        targets = controls
        isConnected = !pushes.isEmpty
        switch pushes.count {
        case 0:
            keepAlive = Push { [unowned self] _, _ in self.unconnectedRecords += 1 }
        case 1:
            keepAlive = pushes[0]
        default:
            let calls = pushes.map(\.call)
            keepAlive = Push { value, ts in for call in calls { try call(value, ts) } }
        }
        target = keepAlive
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
