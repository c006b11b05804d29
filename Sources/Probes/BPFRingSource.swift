import Dispatch
import Logging
import Stream

/// A probe as a source: loads a BPF object, attaches its programs, and emits the records of
/// its `events` ring buffer as `Event`s. Event time is the kernel's stamp; the buffer is filled
/// in commit order, which may trail the stamps a little across CPUs, hence the watermark's
/// slack. Events the kernel dropped because the buffer was full are counted in the object's
/// `lost` map (`lostEvents`).
public struct BPFRingSource<Event: Sendable>: SourceReader {
    public typealias Record = Event
    private let object: BPFObject?
    private let ring: RingBuffer<Event>?
    private let unixNanos: @Sendable (Event) -> Int64
    private let slackNanos: Int64 = 100_000_000
    private var newest = Int64.min
    private let file: String
    private var lostReportedAt: UInt64 = 0

    /// `optional`: without permission, BTF or the built object, log why and end at once
    /// instead of failing the job.
    init(object file: String, optional: Bool, decode: @escaping @Sendable (UnsafeRawPointer, Int, HostClock) -> Event?,
         unixNanos: @escaping @Sendable (Event) -> Int64) throws {
        self.unixNanos = unixNanos
        self.file = file
        do {
            let object = try BPFObject(file: file)
            let clock = HostClock()
            ring = try RingBuffer(mapFD: try object.mapFD("events")) { decode($0, $1, clock) }
            self.object = object
        } catch let e as ProbeError where optional {
            Logger(label: "vigil.probes").warning("probe \(file) not running: \(e)")
            object = nil
            ring = nil
        }
    }

    /// Events the kernel could not hand over because the ring buffer was full.
    public var lostEvents: UInt64 { (try? object?.counter("lost")) ?? 0 }

    public mutating func read(into context: SourceContext<Event>, limit: Int) throws -> SourceReadResult {
        guard let ring else { return .finished }
        if ring.pending.isEmpty { try ring.poll(timeoutMs: 10) }
        let batch = ring.take(upTo: limit)
        for e in batch {
            let t = unixNanos(e)
            try context.emit(e, timestamp: t / 1_000_000)
            newest = max(newest, t)
        }
        if newest != .min { context.emitWatermark((newest - slackNanos) / 1_000_000) }
        let now = DispatchTime.now().uptimeNanoseconds
        if now - lostReportedAt >= 500_000_000 {  // a map read is a syscall: twice a second
            lostReportedAt = now
            ProbeCounters.shared.setLost(file, lostEvents)
        }
        return batch.isEmpty ? .nothingAvailable : .more
    }
}
