import CBPF
import Foundation
import Stream

/// One syscall's latencies over a window: counts per log2 bucket of nanoseconds.
public struct SyscallHistogram: Sendable, Equatable {
    public static let buckets = 40
    public var syscall: String
    public var number: UInt32
    /// `counts[b]`: calls that took [2^b, 2^(b+1)) ns (bucket 0 also 0 and 1 ns).
    public var counts: [UInt64]
    public var windowEndUnixNanos: Int64

    public var total: UInt64 { counts.reduce(0, +) }

    /// An upper bound of the q-quantile (the top of the bucket it falls in), in nanoseconds.
    public func quantileUpperBound(_ q: Double) -> UInt64 {
        let target = UInt64((Double(total) * q).rounded(.up))
        var seen: UInt64 = 0
        for (b, c) in counts.enumerated() {
            seen += c
            if seen >= max(1, target) { return UInt64(1) << UInt64(b + 1) }
        }
        return 0
    }
}

/// Latency histograms of chosen syscalls, kept in the kernel (syscalls.bpf.o) and read per
/// window: `collect()` returns and clears what accumulated since the last call.
public final class SyscallLatency: @unchecked Sendable {
    // @unchecked: one thread uses it after construction.
    private let object: BPFObject
    private let names: [UInt32: String]
    private let clock = HostClock()

    public init(syscalls: [String]) throws {
        guard !syscalls.isEmpty else { throw ProbeError("name at least one syscall to watch") }
        var names: [UInt32: String] = [:]
        for s in syscalls { names[try SyscallNumbers.number(s)] = s }
        self.names = names
        object = try BPFObject(file: "syscalls.bpf.o")
        let enabled = try object.mapFD("enabled")
        for var nr in names.keys {
            var on: UInt8 = 1
            guard bpf_map_update_elem(enabled, &nr, &on, 0) == 0 else { throw ProbeError("cannot enable syscall \(nr): \(String(cString: strerror(errno)))") }
        }
    }

    /// Calls not counted because the histogram map was full (over the probe's life).
    public var lostCalls: UInt64 { (try? object.counter("lost")) ?? 0 }

    public func collect() throws -> [SyscallHistogram] {
        let fd = try object.mapFD("histogram")
        let end = Int64(Date().timeIntervalSince1970 * 1e9)
        var byNumber: [UInt32: [UInt64]] = [:]
        for key in try object.keys(of: "histogram", keySize: 8) {
            var count: UInt64 = 0
            guard key.withUnsafeBytes({ bpf_map_lookup_elem(fd, $0.baseAddress, &count) }) == 0 else { continue }
            // Deleted after reading: calls counted in between go to the next window.
            _ = key.withUnsafeBytes { bpf_map_delete_elem(fd, $0.baseAddress) }
            let (nr, bucket) = key.withUnsafeBytes { ($0.loadUnaligned(fromByteOffset: 0, as: UInt32.self), Int($0.loadUnaligned(fromByteOffset: 4, as: UInt32.self))) }
            guard bucket < SyscallHistogram.buckets else { continue }
            byNumber[nr, default: [UInt64](repeating: 0, count: SyscallHistogram.buckets)][bucket] += count
        }
        return byNumber.keys.sorted().map { nr in
            SyscallHistogram(syscall: names[nr] ?? "nr:\(nr)", number: nr, counts: byNumber[nr]!, windowEndUnixNanos: end)
        }
    }
}

/// The syscall histograms as a source: each window's histograms, stamped with its end.
public struct SyscallLatencyReader: SourceReader {
    public typealias Record = SyscallHistogram
    private let latency: SyscallLatency
    private let windowNanos: Int64
    private var windowEnd: Int64

    public init(syscalls: [String], window: TimeSpan) throws {
        latency = try SyscallLatency(syscalls: syscalls)
        windowNanos = max(1, window.milliseconds) * 1_000_000
        windowEnd = Int64(Date().timeIntervalSince1970 * 1e9) + windowNanos
    }

    public mutating func read(into context: SourceContext<SyscallHistogram>, limit: Int) throws -> SourceReadResult {
        let now = Int64(Date().timeIntervalSince1970 * 1e9)
        guard now >= windowEnd else { return .nothingAvailable }
        windowEnd = now + windowNanos
        for h in try latency.collect() { try context.emit(h, timestamp: h.windowEndUnixNanos / 1_000_000) }
        context.emitWatermark(now / 1_000_000)
        return .more
    }
}

extension StreamEnvironment {
    /// Latency histograms of these syscalls on the whole host, one per syscall per `window`
    /// (eBPF, aggregated in the kernel: high call rates cost little).
    public func syscallLatencies(_ syscalls: [String], window: TimeSpan = .seconds(10), name: String = "syscall-latency") -> DataStream<SyscallHistogram> {
        source(name: name, parallelism: 1) { _, _ in try SyscallLatencyReader(syscalls: syscalls, window: window) }
    }
}
