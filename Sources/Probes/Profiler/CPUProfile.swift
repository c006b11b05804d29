/// Where CPU time went over a window: sampled stacks and how often each was seen.
public struct CPUProfile: Sendable {
    public struct Frame: Sendable, Hashable {
        public var address: UInt64
        /// The function, when the address could be symbolized (Swift names stay mangled).
        public var function: String?
        /// The executable or library the address lies in (`[kernel]` for kernel frames).
        public var mapping: String?
        public var mappingStart: UInt64
        public var mappingEnd: UInt64
        public var mappingOffset: UInt64
        public var isKernel: Bool
    }

    public struct Sample: Sendable {
        public var pid: Int32
        public var command: String
        /// Leaf first: kernel frames (if it was in the kernel), then user frames.
        public var frames: [Frame]
        public var count: Int
    }

    public var startUnixNanos: Int64
    public var endUnixNanos: Int64
    public var frequency: Int
    public var samples: [Sample]
    /// Samples the kernel could not count (its map was full) over the profiler's life.
    public var lostSamples: UInt64

    public var totalSamples: Int { samples.reduce(0) { $0 + $1.count } }

    /// Samples per leaf function (the frame that was running; its address where unnamed).
    public func leafCounts(pid: Int32? = nil) -> (counts: [String: Int], total: Int) {
        var byFunction: [String: Int] = [:]
        var total = 0
        for s in samples where pid == nil || s.pid == pid {
            total += s.count
            let leaf = s.frames.first.map { $0.function ?? "0x" + String($0.address, radix: 16) } ?? "[no stack]"
            byFunction[leaf, default: 0] += s.count
        }
        return (byFunction, total)
    }

    /// Each leaf function's share of the samples, largest first.
    public func leafShares(pid: Int32? = nil) -> [(function: String, share: Double)] {
        let (counts, total) = leafCounts(pid: pid)
        return counts.map { ($0.key, total == 0 ? 0 : Double($0.value) / Double(total)) }.sorted { $0.share > $1.share }
    }
}
