import Synchronization

/// Events each probe's kernel side could not hand over (its ring buffer or map was full), as
/// its reader last read them: for /metrics and benchmarks, which cannot reach the reader.
public final class ProbeCounters: Sendable {
    public static let shared = ProbeCounters()
    private let lost = Mutex<[String: UInt64]>([:])

    /// By BPF object (`tcp.bpf.o`, …).
    public var lostEvents: [String: UInt64] { lost.withLock { $0 } }

    func setLost(_ object: String, _ n: UInt64) { lost.withLock { $0[object] = n } }
}
