import Foundation

/// The figures `vigil bench` puts in its one table, each beside what it is measured against:
/// a figure of the same run (a hand-written loop, raw librdkafka, Drain3…), or a published one.
struct Headline {
    enum Reference {
        /// Measured in the same run, under this key.
        case measured(String, String)
        /// Published or set elsewhere: text only, no ratio.
        case quoted(String)
        case none
    }

    let figure: String
    let key: String
    let reference: Reference

    init(_ figure: String, _ key: String, _ reference: Reference = .none) {
        self.figure = figure
        self.key = key
        self.reference = reference
    }

    static let byBenchmark: [String: [Headline]] = [
        "runtime": [
            Headline("keyed windows, parallelism 1 (events/s)", "events_per_s_p1", .measured("hand-written loop", "reference_events_per_s")),
            Headline("parallelism 2 over 1", "scaling_p2_over_p1", .measured("two hand-written threads", "reference_scaling_two_threads")),
        ],
        "checkpoint": [
            Headline("throughput with checkpoints, share of without", "throughput_ratio_with_checkpoints", .quoted("1.00: no checkpoints")),
            Headline("checkpoint, median ms", "checkpoint_ms_median"),
            Headline("restore, ms", "restore_ms"),
        ],
        "kafka": [
            Headline("source + OTLP decoding (bytes/s)", "vigil_bytes_per_s", .measured("raw librdkafka consumer", "raw_bytes_per_s")),
        ],
        "loghub": [
            Headline("template mining (lines/s)", "lines_per_s", .measured("Drain3", "drain3_lines_per_s")),
            Headline("grouping accuracy, mean", "ga_avg", .measured("Drain3", "drain3_ga_avg")),
            Headline("parsing accuracy, mean", "pa_avg", .measured("Drain3", "drain3_pa_avg")),
        ],
        "nab": [
            Headline("NAB standard, best detector", "standard", .quoted("ARTime 74.9, HTM 70.5, CAD OSE 69.9 (published)")),
            Headline("NAB reward low FP", "reward_low_fp"),
            Headline("NAB reward low FN", "reward_low_fn"),
        ],
        "rca": [
            Headline("TrainTicket (Nezha) AC@1", "nezha_ac1", .quoted("Nezha 0.867 on all 45 cases (published)")),
            Headline("TrainTicket (Nezha) Avg@5", "nezha_avg5"),
            Headline("PetShop top-1", "petshop_top1"),
        ],
        "remediate": [
            Headline("policy engine (incidents/s)", "engine_incidents_per_s"),
            Headline("webhooks/s", "webhooks_per_s", .measured("URLSession loop", "raw_urlsession_posts_per_s")),
            Headline("exec actions/s", "execs_per_s", .measured("posix_spawn loop", "raw_posix_spawns_per_s")),
        ],
        "ebpf": [
            Headline("CPU profiler at 99 Hz, overhead %", "profiler_overhead_pct", .quoted("goal < 1%")),
            Headline("TCP connections/s followed, 0 lost", "tcp_connections_per_s_no_loss", .quoted("goal ≥ 20,000/s")),
            Headline("TCP probe events lost", "lost_events"),
        ],
        "scaleout": [
            Headline("keyed windows, 2 processes (events/s)", "events_per_s_2proc", .measured("1 process", "events_per_s_1proc")),
            Headline("failover after kill -9 (s)", "failover_s", .quoted("goal ≤ 10 s")),
        ],
    ]

    /// One table of every headline of the benchmarks run: figure, reference, ratio.
    static func table(_ results: [(name: String, figures: Figures?)]) -> String {
        var rows: [[String]] = [["benchmark", "figure", "value", "reference", "reference value", "ratio"]]
        for (name, figures) in results {
            guard let figures else {
                rows.append([name, "(failed: see above)", "", "", "", ""])
                continue
            }
            for h in byBenchmark[name] ?? [] {
                let value = figures[h.key]
                var row = [name, h.figure, format(value)]
                switch h.reference {
                case .measured(let label, let key):
                    let ref = figures[key]
                    let ratio = value.flatMap { v in ref.flatMap { $0 != 0 && $0.isFinite && v.isFinite ? v / $0 : nil } }
                    row += [label, format(ref), ratio.map { String(format: "%.2f×", $0) } ?? "–"]
                case .quoted(let text): row += [text, "", ""]
                case .none: row += ["", "", ""]
                }
                rows.append(row)
            }
        }
        let widths = (0..<6).map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { r in zip(r, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ") }
            .joined(separator: "\n")
    }

    static func format(_ v: Double?) -> String {
        guard let v, v.isFinite else { return "–" }
        if abs(v) >= 1e6 { return String(format: "%.2f M", v / 1e6) }
        if abs(v) >= 1e4 { return String(format: "%.0f k", v / 1e3) }
        if abs(v) >= 100 { return String(format: "%.0f", v) }
        return String(format: "%.3g", v)
    }
}
