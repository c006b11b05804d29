import Detectors
import Probes
import RCA
import Stream

/// Which of this host's eBPF signals the AIOps job reads, as anomaly evidence for incidents.
public struct HostSignals: Sendable {
    public var processes = false
    public var tcp = false
    public var profiler = false
    /// A probe that cannot start (no privileges, no BTF) is skipped, with a warning.
    public var optional = false
    /// TCP counts and CPU profiles are judged per window of this size.
    public var window: TimeSpan = .seconds(10)
    /// A process that exits abnormally is evidence only if it ran at least this long: short
    /// commands exit non-zero all day (grep found nothing).
    public var minimumLifetimeNanos: UInt64 = 10_000_000_000

    public init() {}
    public var any: Bool { processes || tcp || profiler }
}

extension StreamEnvironment {
    /// The host's signals as anomaly events about the entities of the knowledge graph:
    /// - a long-running process that exits with a code or a signal → its service (the process
    ///   name), signal `process_exit`;
    /// - TCP connect failures and resets received, counted per process per window and judged
    ///   by `detect` → the process's service, signals `connect_failures`, `resets`;
    /// - a CPU hotspot shift → the host, signal `cpu_hotspot`.
    /// Services are named by process name: they join the graph's services where the two agree.
    public func hostAnomalies(_ s: HostSignals, detect: (DataStream<MetricPoint>) -> DataStream<MetricAnomaly>) -> DataStream<AnomalyEvent>? {
        var streams: [DataStream<AnomalyEvent>] = []
        if s.processes {
            let minimum = s.minimumLifetimeNanos
            streams.append(processEvents(optional: s.optional).process(name: "process-exits") { (e: ProcessEvent, out: ProcessContext<AnomalyEvent>) in
                guard e.kind == .exit, (e.durationNanos ?? 0) >= minimum, (e.exitCode ?? 0) != 0 || e.signal != nil, !e.command.isEmpty else { return }
                let how = e.signal.map { "killed by signal \($0)" } ?? "exit code \(e.exitCode ?? 0)"
                let lived = Double(e.durationNanos ?? 0) / 1e9
                try out.emit(AnomalyEvent(time: e.timeMillis, entity: .service(e.command), signal: "process_exit", score: 1,
                                          detail: "\(e.command) (pid \(e.pid)) ended: \(how) after \(Int(lived)) s"))
            })
        }
        if s.tcp {
            let counts = tcpEvents(optional: s.optional)
                .filter(name: "tcp-troubles") { ($0.kind == .connectFailed || $0.kind == .resetReceived) && $0.pid != 0 && !$0.command.isEmpty }
                .keyBy { "\($0.command) tcp \($0.kind == .connectFailed ? "connect_failures" : "resets")" }
                .window(.tumbling(s.window))
                .aggregate(name: "tcp-counts", StatsAggregate { _ in 1 }) { series, window, stats in MetricPoint(series: series, time: window.end, value: Double(stats.count)) }
            streams.append(detect(counts).map(name: "tcp-anomalies") { AnomalyEvent(metricAnomaly: $0) })
        }
        if s.profiler {
            let host = ProbeHost.name
            streams.append(cpuProfiles(window: s.window, optional: s.optional).hotspotShifts()
                .filter(name: "hotspots-up") { $0.share > $0.baselineShare }
                .map(name: "hotspot-anomalies") { h in
                    AnomalyEvent(time: h.windowEnd, entity: Entity(.host, host), signal: "cpu_hotspot", score: min(1, abs(h.z) / 10), detail: h.description)
                })
        }
        guard let first = streams.first else { return nil }
        return streams.dropFirst().reduce(first) { $0.union($1) }
    }
}
