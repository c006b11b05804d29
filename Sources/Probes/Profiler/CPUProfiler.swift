import CBPF
import Foundation
import Stream

/// Samples every CPU at `frequency` Hz (a perf event per CPU running profile.bpf.o), counting
/// (process, user stack, kernel stack) in the kernel; `collect()` reads and clears the counts
/// and symbolizes them into a `CPUProfile` of the window since the last collection.
public final class CPUProfiler: @unchecked Sendable {
    // @unchecked: used by one thread (the source's task) after construction.
    public let frequency: Int
    private let object: BPFObject
    private var perfEvents: [Int32] = []
    private let symbolizer = Symbolizer()
    private let clock = HostClock()
    private var windowStart: Int64

    public init(frequency: Int = 99) throws {
        guard (1...10_000).contains(frequency) else { throw ProbeError("a profiling frequency of \(frequency) Hz is outside 1...10000") }
        self.frequency = frequency
        object = try BPFObject(file: "profile.bpf.o", autoAttach: false)
        windowStart = Int64(Date().timeIntervalSince1970 * 1e9)
        for cpu in Self.onlineCPUs() {
            let fd = vigil_perf_event_open_cpu_clock(Int32(cpu), UInt64(frequency))
            guard fd >= 0 else {
                let why = String(cString: strerror(errno))
                perfEvents.forEach { close($0) }
                throw ProbeError("cannot open a CPU clock perf event on CPU \(cpu): \(why) (kernel.perf_event_paranoid, or no CAP_PERFMON)")
            }
            perfEvents.append(fd)
            try object.attach(program: "on_sample", perfEvent: fd)
        }
    }

    deinit { perfEvents.forEach { close($0) } }

    public var lostSamples: UInt64 { (try? object.counter("lost")) ?? 0 }

    /// The samples since the last call (or the start), symbolized; the kernel's counts and the
    /// stacks they used are cleared.
    public func collect() throws -> CPUProfile {
        let end = Int64(Date().timeIntervalSince1970 * 1e9)
        let countsFD = try object.mapFD("counts"), stacksFD = try object.mapFD("stacks")
        var samples: [CPUProfile.Sample] = []
        var stackIDs = Set<Int32>()
        for key in try object.keys(of: "counts", keySize: 28) {
            var count: UInt64 = 0
            // One step: a sample counted between a lookup and a delete would be lost.
            guard key.withUnsafeBytes({ bpf_map_lookup_and_delete_elem(countsFD, $0.baseAddress, &count) }) == 0 else { continue }
            let (pid, userStack, kernelStack, command) = key.withUnsafeBytes { b in
                (b.loadUnaligned(fromByteOffset: 0, as: Int32.self), b.loadUnaligned(fromByteOffset: 4, as: Int32.self),
                 b.loadUnaligned(fromByteOffset: 8, as: Int32.self),
                 String(decoding: b[12..<28].prefix { $0 != 0 }, as: UTF8.self))
            }
            let kernelFrames = stack(kernelStack, stacksFD).map(symbolizer.kernelFrame)
            let userFrames = symbolizer.userFrames(pid: pid, stack(userStack, stacksFD))
            for id in [userStack, kernelStack] where id >= 0 { stackIDs.insert(id) }
            samples.append(CPUProfile.Sample(pid: pid, command: command, frames: kernelFrames + userFrames, count: Int(count)))
        }
        // Stack ids are shared by every key with the same stack: freed once all are read.
        for var id in stackIDs { _ = bpf_map_delete_elem(stacksFD, &id) }
        defer { windowStart = end }
        return CPUProfile(startUnixNanos: windowStart, endUnixNanos: end, frequency: frequency, samples: samples, lostSamples: lostSamples)
    }

    private func stack(_ id: Int32, _ fd: Int32) -> [UInt64] {
        guard id >= 0 else { return [] }
        var key = id
        var ips = [UInt64](repeating: 0, count: 127)
        guard bpf_map_lookup_elem(fd, &key, &ips) == 0 else { return [] }
        return Array(ips.prefix { $0 != 0 })
    }

    static func onlineCPUs() -> [Int] {
        guard let text = readProcFile("/sys/devices/system/cpu/online") else {
            return Array(0..<max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",").flatMap { part -> [Int] in
            let r = part.split(separator: "-").compactMap { Int($0) }
            return r.count == 2 ? Array(r[0]...r[1]) : r
        }
    }
}
