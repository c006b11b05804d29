import Foundation

/// The order `vigil bench` runs them in: the runtime first, what runs on it after.
let benchmarkOrder = ["runtime", "checkpoint", "kafka", "loghub", "nab", "rca", "remediate", "ebpf", "scaleout"]

/// Every benchmark by name. Each returns its figures (and prints its own table).
let benchmarks: [String: @Sendable (_ quick: Bool) throws -> Figures] = [
    "runtime": runtimeBenchmark,
    "checkpoint": checkpointBenchmark,
    "kafka": kafkaBenchmark,
    "loghub": loghubBenchmark,
    "nab": nabBenchmark,
    "rca": rcaBenchmark,
    "remediate": remediateBenchmark,
    "ebpf": ebpfBenchmark,
    "scaleout": scaleoutBenchmark,
]

/// A benchmark's results: a flat JSON object of numbers and strings, in insertion order.
struct Figures {
    private(set) var entries: [(String, Any)] = []
    subscript(key: String) -> Double? {
        get { entries.first { $0.0 == key }?.1 as? Double }
        set { set(key, newValue ?? .nan) }
    }
    mutating func set(_ key: String, _ value: Any) {
        entries.removeAll { $0.0 == key }
        entries.append((key, value))
    }
    func writeJSON(to path: String) throws {
        let body = entries.map { key, value -> String in
            let v: String
            switch value {
            case let d as Double: v = d.isFinite ? String(format: "%.6g", d) : "null"
            case let i as Int: v = String(i)
            case let s as String: v = "\"\(s.replacingOccurrences(of: "\"", with: "\\\""))\""
            default: v = "\"\(value)\""
            }
            return "  \"\(key)\": \(v)"
        }.joined(separator: ",\n")
        try "{\n\(body)\n}\n".write(toFile: path, atomically: true, encoding: .utf8)
    }
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// Seconds taken by `body`.
func time(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// Peak resident set size of this process so far, in MiB.
func peakRSSMegabytes() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024  // Linux reports KiB
}

/// Current resident set size, in MiB (from /proc/self/statm).
func currentRSSMegabytes() -> Double {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
          let pages = text.split(separator: " ").dropFirst().first.flatMap({ Double($0) }) else { return .nan }
    return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
}

func printTable(_ title: String, _ rows: [(String, String)]) {
    print("\n\(title)")
    let width = rows.map(\.0.count).max() ?? 0
    for (k, v) in rows { print("  \(k.padding(toLength: width, withPad: " ", startingAt: 0))  \(v)") }
}

func formatRate(_ perSecond: Double) -> String {
    perSecond >= 1e6 ? String(format: "%.2f M/s", perSecond / 1e6) : String(format: "%.0f k/s", perSecond / 1e3)
}

/// Deterministic pseudo-random numbers (SplitMix64).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
