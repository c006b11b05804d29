import Foundation

/// BPF programs stamp events with CLOCK_MONOTONIC (bpf_ktime_get_ns); records carry wall-clock
/// time. The offset between the two is read once, when a probe starts (a clock step later
/// shifts event times by the step, as it would for any reader of the wall clock).
struct HostClock: Sendable {
    let realtimeMinusMonotonicNanos: Int64

    init() {
        var real = timespec(), mono = timespec()
        clock_gettime(CLOCK_MONOTONIC, &mono)
        clock_gettime(CLOCK_REALTIME, &real)
        realtimeMinusMonotonicNanos = (Int64(real.tv_sec) - Int64(mono.tv_sec)) * 1_000_000_000 + Int64(real.tv_nsec) - Int64(mono.tv_nsec)
    }

    /// Nanoseconds since 1970 of a monotonic-clock stamp.
    func unixNanos(monotonic: UInt64) -> Int64 { Int64(bitPattern: monotonic) &+ realtimeMinusMonotonicNanos }

    static let hostName: String = {
        var buffer = [UInt8](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
    }()
}

/// This host, as probes name it in `host.name`.
public enum ProbeHost {
    public static var name: String { HostClock.hostName }
}
