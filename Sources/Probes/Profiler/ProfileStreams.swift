import Foundation
import Stream

/// The CPU profiler as a source: one `CPUProfile` per window of wall-clock time, stamped with
/// the window's end.
public struct CPUProfileReader: SourceReader {
    public typealias Record = CPUProfile
    private let profiler: CPUProfiler?
    private let windowNanos: Int64
    private var windowEnd: Int64

    public init(frequency: Int, window: TimeSpan, optional: Bool) throws {
        windowNanos = max(1, window.milliseconds) * 1_000_000
        windowEnd = Int64(Date().timeIntervalSince1970 * 1e9) + windowNanos
        do { profiler = try CPUProfiler(frequency: frequency) } catch let e as ProbeError where optional {
            FileHandle.standardError.write(Data("vigil: CPU profiler not running: \(e)\n".utf8))
            profiler = nil
        }
    }

    public mutating func read(into context: SourceContext<CPUProfile>, limit: Int) throws -> SourceReadResult {
        guard let profiler else { return .finished }
        let now = Int64(Date().timeIntervalSince1970 * 1e9)
        guard now >= windowEnd else { return .nothingAvailable }
        let profile = try profiler.collect()
        windowEnd = now + windowNanos
        try context.emit(profile, timestamp: profile.endUnixNanos / 1_000_000)
        context.emitWatermark(profile.endUnixNanos / 1_000_000)
        return .more
    }
}

extension StreamEnvironment {
    /// Where this host's CPUs spend their time: a profile per `window`, sampled at
    /// `frequency` Hz on every CPU (eBPF perf events; root or CAP_BPF and CAP_PERFMON).
    public func cpuProfiles(name: String = "cpu-profiles", frequency: Int = 99, window: TimeSpan = .seconds(10),
                            optional: Bool = false) -> DataStream<CPUProfile> {
        source(name: name, parallelism: 1) { _, _ in try CPUProfileReader(frequency: frequency, window: window, optional: optional) }
    }
}
