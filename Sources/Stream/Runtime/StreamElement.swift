/// What travels over a channel between two tasks, in order.
public enum StreamElement: Sendable {
    /// A batch of records: a `ContiguousArray<StreamRecord<T>>` of the edge's record type.
    case records(any Sendable, count: Int)
    case watermark(Timestamp)
    /// The upstream subtask went idle (excluded from the watermark minimum) or active again.
    case watermarkStatus(idle: Bool)
    /// The upstream subtask has finished; nothing follows on this channel.
    case endOfPartition

}
