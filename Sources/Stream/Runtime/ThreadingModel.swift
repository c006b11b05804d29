/// How a job's tasks are mapped onto threads.
public enum ThreadingModel: Sendable, Equatable {
    /// One thread per task (the default). Any task may block — a source polling Kafka, an
    /// operator calling out — without holding up another; the kernel interleaves the threads.
    case threadPerTask
    /// One worker thread per core (`threads`, default: the cores, at most the job's widest
    /// parallelism). Subtask *i* of every chain runs on worker *i* mod n, in short steps (a
    /// source batch, a few input batches), so a subtask's records, state and the batches it
    /// hands to its neighbour on the same core stay in that core's cache, and the kernel never
    /// switches between tasks. For CPU-bound jobs whose user code does not block: a step that
    /// blocks holds up every task of its worker. Sources that wait for input (Kafka, BPF
    /// rings; `SourceReader.readsWithoutWaiting` false) still get a thread of their own.
    case threadPerCore(threads: Int? = nil)
}
