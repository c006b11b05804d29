/// What travels over a channel between two tasks, in order.
public enum StreamElement: Sendable {
    /// A batch of records: a `ContiguousArray<StreamRecord<T>>` of the edge's record type.
    case records(any Sendable, count: Int)
    case watermark(Timestamp)
    /// The upstream subtask went idle (excluded from the watermark minimum) or active again.
    case watermarkStatus(idle: Bool)
    /// Checkpoint barrier: everything before it belongs to checkpoint `id`, everything after
    /// to later ones.
    case barrier(Int64)
    /// The upstream subtask's input is exhausted: no records or watermarks follow. Barriers
    /// still may (the final checkpoint of a bounded job).
    case endOfData
    /// The upstream subtask has finished; nothing at all follows on this channel.
    case endOfPartition
}

/// Control messages to a task from the checkpoint coordinator, handled ahead of its input.
public enum TaskMail: Sendable {
    /// Sources: snapshot and emit barrier `id`. `final`: the checkpoint a finished bounded
    /// job waits for before it closes its outputs.
    case triggerCheckpoint(Int64, final: Bool)
    case checkpointComplete(Int64)
    case checkpointAborted(Int64)
    /// Stop now, cleanly, having handled the mail before this (posted after a final
    /// checkpoint's completion, so its transactions are committed first).
    case stop
}
