import ArgumentParser
import Foundation
import Probes
import Stream

/// `vigil probes`: the host's eBPF sources on their own, to see what they report.
struct ProbesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probes",
        abstract: "Runs an eBPF probe on this host and prints what it reports (needs root or CAP_BPF and CAP_PERFMON).",
        subcommands: [Processes.self, TCP.self, Profile.self, Syscalls.self]
    )

    struct Syscalls: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "syscalls",
            abstract: "Latency of chosen syscalls on the whole host, per window (histograms kept in the kernel)."
        )

        @Option(name: .customLong("syscall"), help: "A syscall to watch (repeatable): read, write, fsync, connect, futex, … or nr:N.")
        var syscalls: [String] = ["read", "write", "fsync"]
        @Option(help: "Window, seconds.") var window = 5.0
        @Option(help: "Windows to print (default: until interrupted).") var windows: Int?

        func run() throws {
            let latency = try SyscallLatency(syscalls: syscalls)
            var printed = 0
            while windows.map({ printed < $0 }) ?? true {
                Thread.sleep(forTimeInterval: window)
                for h in try latency.collect() {
                    func ms(_ ns: UInt64) -> String { String(format: "%.3f ms", Double(ns) / 1e6) }
                    print("\(TimeText.rfc3339(h.windowEndUnixNanos / 1_000_000)) \(h.syscall): \(h.total) calls, p50 ≤ \(ms(h.quantileUpperBound(0.5))), p99 ≤ \(ms(h.quantileUpperBound(0.99)))")
                }
                printed += 1
                if latency.lostCalls > 0 { print("  (\(latency.lostCalls) calls not counted so far: the histogram map was full)") }
            }
        }
    }

    struct Profile: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "profile",
            abstract: "Samples every CPU for a while and prints where the time went (and writes pprof)."
        )

        @Option(help: "How long to sample.") var seconds = 10.0
        @Option(help: "Samples per second per CPU.") var frequency = 99
        @Option(help: "Only this process.") var pid: Int32?
        @Option(help: "Write the profile here (pprof: gzipped protobuf, for go tool pprof and other viewers).") var pprof: String?
        @Option(help: "Functions to print.") var top = 15

        func run() throws {
            let profiler = try CPUProfiler(frequency: frequency)
            Thread.sleep(forTimeInterval: seconds)
            let profile = try profiler.collect()
            let samples = profile.samples.filter { pid == nil || $0.pid == pid }.reduce(0) { $0 + $1.count }
            print("\(samples) samples in \(String(format: "%.1f", seconds)) s at \(frequency) Hz\(pid.map { " of pid \($0)" } ?? ""); lost: \(profile.lostSamples)")
            for (function, share) in profile.leafShares(pid: pid).prefix(top) {
                print(String(format: "%6.1f%%  ", share * 100) + function)
            }
            if let pprof {
                try Data(Pprof.gzipped(profile)).write(to: URL(fileURLWithPath: pprof))
                print("pprof: \(pprof)")
            }
        }
    }

    struct TCP: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "tcp",
            abstract: "TCP connections of this host: handshake latency, failed connects, retransmits, resets, with the process that connected."
        )

        @Option(help: "Stop after this many seconds (default: until interrupted).") var seconds: Double?

        func run() throws {
            let env = StreamEnvironment(name: "probes", parallelism: 1)
            env.tcpEvents().map { e in
                let who = e.pid == 0 ? "" : " \(e.command)[\(e.pid)]"
                let latency = e.latencyNanos.map { String(format: " after %.3f ms", Double($0) / 1e6) } ?? ""
                return "\(TimeText.rfc3339(e.timeUnixNanos / 1_000_000)) \(e.kind.rawValue)\(who) \(e.localAddress):\(e.localPort) → \(e.remoteAddress):\(e.remotePort)\(latency)"
            }.print()
            let job = try env.start()
            if let seconds {
                Thread.sleep(forTimeInterval: seconds)
                job.cancel()
            }
            _ = try? job.wait()
        }
    }

    struct Processes: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "processes",
            abstract: "Every process started (exec) and ended (exit, with its code and lifetime) on this host."
        )

        @Option(help: "Stop after this many seconds (default: until interrupted).") var seconds: Double?
        @Flag(help: "JSON lines instead of text.") var json = false

        func run() throws {
            let env = StreamEnvironment(name: "probes", parallelism: 1)
            let json = self.json
            env.processEvents().map { e in json ? Self.jsonLine(e) : Self.text(e) }.print()
            let job = try env.start()
            if let seconds {
                Thread.sleep(forTimeInterval: seconds)
                job.cancel()
            }
            _ = try? job.wait()
        }

        static func text(_ e: ProcessEvent) -> String {
            let time = TimeText.rfc3339(e.timeMillis)
            switch e.kind {
            case .exec: return "\(time) exec \(e.pid) (parent \(e.parentPID)) \(e.executable ?? e.command)"
            case .exit:
                let how = e.signal.map { "killed by signal \($0)" } ?? "exit \(e.exitCode ?? 0)"
                return "\(time) exit \(e.pid) \(e.command): \(how) after \(String(format: "%.3f", Double(e.durationNanos ?? 0) / 1e9)) s"
            }
        }

        static func jsonLine(_ e: ProcessEvent) -> String {
            var fields: [String: Any] = ["kind": e.kind.rawValue, "time_unix_nano": e.timeUnixNanos, "pid": e.pid, "parent_pid": e.parentPID,
                                         "command": e.command, "cgroup_id": e.cgroupID, "host_name": e.hostName]
            if let x = e.executable { fields["executable"] = x }
            if let c = e.exitCode { fields["exit_code"] = c }
            if let s = e.signal { fields["signal"] = s }
            if let d = e.durationNanos { fields["duration_nanos"] = d }
            let data = (try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])) ?? Data()
            return String(decoding: data, as: UTF8.self)
        }
    }
}
