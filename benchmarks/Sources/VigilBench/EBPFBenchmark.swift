import Foundation
import Probes
import Stream

/// eBPF: what the CPU profiler costs a CPU-bound program (the same fixed work timed without,
/// then with the profiler at 99 Hz, 15 pairs, the median ratio), and how many loopback TCP connections
/// per second the TCP probe follows (connections made as fast as two threads can, against
/// the events the probe delivered for them, and the kernel's count of events lost).
func ebpfBenchmark(quick: Bool) throws -> Figures {
    var f = Figures()

    // 1. TCP probe capacity (first, and stopped before the profiler starts).
    let tcp = try measureTCPProbe(quick: quick, into: &f)

    // 2. Profiler overhead.
    let work = quick ? 20_000_000 : 100_000_000
    func cpuBound() -> Double { time { benchSink = randomWalk(work) } }
    _ = cpuBound()  // warm up
    var without: [Double] = [], with: [Double] = []
    for _ in 0..<(quick ? 3 : 15) {
        without.append(cpuBound())
        let profiler = try CPUProfiler(frequency: 99)
        with.append(cpuBound())
        _ = try profiler.collect()
    }
    // Each run with the profiler against the run just before it without: the machine's drift
    // (other load, frequency) is shared within a pair; the median pair is the figure.
    let overhead = (median(zip(with, without).map { $0 / $1 }) - 1) * 100
    f["cpu_bound_seconds_without_profiler"] = median(without)
    f["cpu_bound_seconds_with_profiler"] = median(with)
    f["profiler_overhead_pct"] = overhead

    printTable("eBPF probes", [
        ("CPU-bound work, without profiler", String(format: "%.3f s (median of %d)", median(without), without.count)),
        ("  with the profiler at 99 Hz", String(format: "%.3f s", median(with))),
        ("  profiler overhead", String(format: "%+.2f %%  (goal < 1%%)", overhead)),
        ("TCP connections made", String(format: "%d in %.1f s by %d threads: %.0f/s", tcp.made, tcp.elapsed, tcp.threads, Double(tcp.made) / tcp.elapsed)),
        ("  events delivered for them", "\(tcp.seen) of \(tcp.expected)"),
        ("  events lost in the kernel", "\(tcp.lost)"),
    ])
    return f
}

nonisolated(unsafe) var benchSink: UInt64 = 0

/// CPU-bound work the optimizer cannot fold away: each step loads what the previous one
/// computed, from a table that fits in L2.
@inline(never)
func randomWalk(_ n: Int) -> UInt64 {
    var table = [UInt64](repeating: 0, count: 1 << 15)
    var x: UInt64 = 0x9E37_79B9_7F4A_7C15
    for i in table.indices { x ^= x << 13; x ^= x >> 7; x ^= x << 17; table[i] = x }
    var index = 0, acc: UInt64 = 0
    table.withUnsafeBufferPointer { t in
        for i in 0..<n {
            acc = acc &+ t[index] ^ UInt64(i)
            index = Int(truncatingIfNeeded: acc) & (t.count - 1)
        }
    }
    return acc
}

final class BenchCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func add(_ k: Int) { lock.lock(); n += k; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
}

func benchListen() throws -> (fd: Int32, address: sockaddr_in) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var a = sockaddr_in()
    a.sin_family = sa_family_t(AF_INET)
    a.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &a) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && listen(fd, 4096) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard ok else { throw ProbeError("cannot listen on loopback: \(errno)") }
    return (fd, a)
}

func benchConnectOnce(_ listener: (fd: Int32, address: sockaddr_in)) throws {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var a = listener.address
    // Closed at once with SO_LINGER 0: no TIME_WAIT, so the ephemeral ports do not run out.
    var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
    let r = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    guard r == 0 else { throw ProbeError("connect: \(errno)") }
}

/// Loopback connections as fast as two threads make them, with the TCP probe running: how
/// many per second, and whether the probe delivered an event for each (and lost none).
private func measureTCPProbe(quick: Bool, into f: inout Figures) throws -> (made: Int, elapsed: Double, threads: Int, seen: Int, expected: Int, lost: UInt64) {
    let env = StreamEnvironment(name: "tcp-bench", parallelism: 1)
    let me = getpid()
    // Counted as they arrive (a discard sink counts only once the job has finished).
    let seen = BenchCounter()
    _ = env.tcpEvents().process(name: "count") { (e: TCPEvent, _: ProcessContext<Never>) in
        if e.kind == .connected && e.pid == me { seen.add(1) }
    }
    let job = try env.start()
    defer { job.cancel(); _ = try? job.wait() }
    let listener = try benchListen()
    defer { close(listener.fd) }
    // Wait for the probe: connect until it reports one.
    let ready = Date().addingTimeInterval(30)
    var warmup = 0
    while seen.value == 0, Date() < ready { try benchConnectOnce(listener); warmup += 1; Thread.sleep(forTimeInterval: 0.01) }
    if seen.value == 0 {
        job.cancel()
        _ = try job.wait()  // the probe's failure, if it failed
        throw ProbeError("the TCP probe reported none of \(warmup) connections ")
    }
    let seconds = quick ? 1.0 : 3.0
    let made = BenchCounter()
    let start = Date()
    let threads = 2
    let group = DispatchGroup()
    for _ in 0..<threads {
        group.enter()
        Thread {
            var n = 0
            while Date().timeIntervalSince(start) < seconds { if (try? benchConnectOnce(listener)) != nil { n += 1 } }
            made.add(n)
            group.leave()
        }.start()
    }
    // The listener's backlog is drained by this thread meanwhile.
    let acceptor = Thread { while true { let c = accept(listener.fd, nil, nil); if c < 0 { break }; close(c) } }
    acceptor.start()
    group.wait()
    let elapsed = Date().timeIntervalSince(start)
    let expected = made.value + warmup
    let drain = Date().addingTimeInterval(10)
    while seen.value < expected, Date() < drain { Thread.sleep(forTimeInterval: 0.05) }
    Thread.sleep(forTimeInterval: 0.6)  // the reader publishes the kernel's lost count twice a second
    let lost = ProbeCounters.shared.lostEvents["tcp.bpf.o"] ?? 0
    let rate = Double(made.value) / elapsed
    f["tcp_connections_per_s"] = rate
    f["tcp_events_expected"] = Double(expected)
    f["tcp_events_seen"] = Double(seen.value)
    f["lost_events"] = Double(lost)
    f["tcp_connections_per_s_no_loss"] = lost == 0 && seen.value == expected ? rate : 0
    return (made.value, elapsed, threads, seen.value, expected, lost)
}
