/// Writes records somewhere outside the job. One writer per sink subtask, used by that
/// subtask's thread only.
public protocol SinkWriter: SendableMetatype {
    associatedtype Input: Sendable
    mutating func write(_ value: Input, timestamp: Timestamp) throws
    /// The input ended (bounded jobs): flush and release.
    mutating func finish() throws
}
extension SinkWriter {
    public mutating func finish() throws {}
}

final class SinkOperator<W: SinkWriter>: StreamOperator {
    private var writer: W

    init(info: OperatorInfo, runtime: OperatorRuntime, writer: W) {
        self.writer = writer
        super.init(info: info, inputs: 1, runtime: runtime)
    }

    @inline(__always)
    func process(_ value: W.Input, _ ts: Timestamp) throws {
        do { try writer.write(value, timestamp: ts) } catch { throw wrap(error, context: "record \(shortDescription(value))") }
    }

    override func onFinish() throws {
        do { try writer.finish() } catch { throw wrap(error, context: "finishing its output") }
    }
}
