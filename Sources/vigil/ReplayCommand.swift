import AIOps
import ArgumentParser
import Detectors
import Foundation
import Ingest
import Logging
import Remediate
import Stream

/// `vigil replay`: the AIOps job as a backtest over a range of its topics, as fast as it can,
/// scored against labelled windows.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Backtests the AIOps job over a time range of its topics and scores it against labelled windows.",
        discussion: """
            Reads each topic from its first record stamped at or after --from up to its first \
            record stamped at or after --to (Kafka record times; the end as it is at the start \
            without --to), through private consumer groups that commit nothing: the live job's \
            group and the dead-letter topic are left alone. The job runs in event time as fast \
            as it can; its incidents are printed as they happen (--json for JSON lines). \
            --labels scores them: a JSON file of windows ({"windows": [{"start", "end", \
            "series", "root_cause", "name"}]}) or NAB's combined windows. --report DIR writes \
            report.json (precision, recall, F1, detection delay, NAB score, root-cause rank) \
            and index.html (plots of every detector series, its scores and the windows). \
            See docs/replay.md.
            """
    )

    @Option(help: "Configuration file (docs/configuration.md): windows, detectors, topics; its policies are not run.") var config: String?
    @Option(help: "Kafka bootstrap servers.") var brokers: String?
    @Option(help: "Topics to read, comma-separated (default: every signal's topic); each must be the spans, logs or metrics topic.") var topics: String?
    @Option(help: "Start: RFC 3339 (2026-12-04T10:00:00Z), ms since 1970, -30m / -2h / -1d (before now), or 'earliest'.") var from = "earliest"
    @Option(help: "End (exclusive): as --from, or 'end' (the end of each partition when the replay starts).") var to = "end"
    @Option(help: "Labelled windows (JSON) to score the run against.") var labels: String?
    @Option(help: "Write report.json and index.html into this directory.") var report: String?
    @Flag(help: "Print incident JSON lines instead of the readable report.") var json = false
    @Flag(help: "No progress bar (it is shown only on a terminal anyway).") var noProgress = false
    @OptionGroup var job: AIOpsJobOptions

    func validate() throws {
        _ = try Self.time(from, name: "--from", now: 0)
        _ = try Self.time(to, name: "--to", now: 0)
        if job.state != nil { throw ValidationError("--state: a replay keeps no state (it reads its range from the start every time)") }
        if job.policies != nil { throw ValidationError("--policies: a replay takes no actions") }
        if !job.probes.isEmpty { throw ValidationError("--probe: a replay reads recorded topics; this host's signals now are not in them") }
    }

    func run() throws {
        bootstrapWarningLogging()
        let settings = try VigilConfigFile.resolve(config: config, brokers: brokers, job: job, command: "replay")
        if settings.remediation != nil { note("the configuration's policies are not run: a replay takes no actions") }
        guard let brokers = settings.brokers else { throw ValidationError("--brokers (or kafka.brokers in --config) is required") }
        var o = settings.job
        o.state = nil
        o.stopAtEnd = false
        o.signals = try signals(o)
        let windows: [LabelledWindow]
        do { windows = try labels.map { try BacktestLabels.load(path: $0) } ?? [] } catch {
            FileHandle.standardError.write(Data("vigil replay: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let range = ReplayRange(from: try Self.time(from, name: "--from", now: now), to: try Self.time(to, name: "--to", now: now))
        let topicNames = o.signals.map { topic(of: $0, o) }
        let total: Int64
        do {
            total = try KafkaTopicRange.messageCount(brokers: brokers, topics: topicNames, from: range.from, to: range.to).values.reduce(0, +)
        } catch {
            FileHandle.standardError.write(Data("vigil replay: \(error)\n".utf8))
            throw ExitCode(1)
        }
        note("\(total) messages in \(topicNames.joined(separator: ", ")) from \(range.from.map(TimeText.rfc3339) ?? "the earliest") to \(range.to.map(TimeText.rfc3339) ?? "the end")")

        let aiops = try AIOpsJob(o, brokers: brokers, name: "vigil-replay", remediation: nil, replay: range)
        if json {
            aiops.incidents.map { JSONLines.line(kind: "incident", $0) }.print()
        } else {
            aiops.incidents.map(name: "report") { IncidentReportText.text($0) }.print()
        }
        let reports = aiops.incidents.collect(name: "backtest incidents")
        let scored = aiops.scored?.collect(name: "backtest scores")
        let started = Date()
        let consumedBefore = IngestCounters.shared.messages.load(ordering: .relaxed)
        let handle = try aiops.environment.start()
        let progress = ReplayProgress(total: total, visible: !noProgress && isatty(STDERR_FILENO) == 1) {
            IngestCounters.shared.messages.load(ordering: .relaxed) - consumedBefore
        }
        progress.start()
        defer { progress.stop() }
        _ = try handle.wait()
        progress.stop()
        let seconds = Date().timeIntervalSince(started)
        let messages = IngestCounters.shared.messages.load(ordering: .relaxed) - consumedBefore

        var series: [String: [ScoredPoint]] = [:]
        for p in scored?.values ?? [] { series[p.series, default: []].append(p) }
        for key in series.keys { series[key]!.sort { $0.time < $1.time } }
        let result = BacktestReport(range: .init(from: range.from, to: range.to, topics: topicNames, messages: messages, seconds: seconds),
                                    detector: o.detector, labels: windows, reports: reports.values, series: series)
        let skipped = IngestCounters.shared.skipped.load(ordering: .relaxed)
        note(summary(result) + (skipped > 0 ? "; \(skipped) undecodable messages skipped" : ""))
        if let dir = report {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try result.json().write(to: URL(fileURLWithPath: dir + "/report.json"))
            try BacktestHTML.render(result, reports: reports.values, series: series).write(toFile: dir + "/index.html", atomically: true, encoding: .utf8)
            note("report: \(dir)/report.json, \(dir)/index.html")
        }
    }

    /// The signals to read: those whose topic --topics names (all by default).
    private func signals(_ o: AIOpsJobOptions) throws -> [AIOpsJobOptions.Signal] {
        guard let topics else { return o.signals }
        let names = topics.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return try names.map { name in
            guard let s = AIOpsJobOptions.Signal.allCases.first(where: { topic(of: $0, o) == name }) else {
                throw ValidationError("--topics: '\(name)' is not the spans, logs or metrics topic (\(o.spansTopic), \(o.logsTopic), \(o.metricsTopic)); name it with --spans-topic, --logs-topic or --metrics-topic")
            }
            return s
        }
    }

    private func topic(of s: AIOpsJobOptions.Signal, _ o: AIOpsJobOptions) -> String {
        switch s {
        case .spans: o.spansTopic
        case .logs: o.logsTopic
        case .metrics: o.metricsTopic
        }
    }

    private func summary(_ r: BacktestReport) -> String {
        func p(_ v: Double?) -> String { v.map { String(format: "%.2f", $0) } ?? "-" }
        var s = "\(r.range.messages) messages in \(String(format: "%.1f", r.range.seconds)) s (\(Int(r.range.messagesPerSecond))/s); "
        s += "\(r.incidents.incidents) incidents"
        if !r.labels.isEmpty {
            let i = r.incidents
            s += "; windows detected \(i.detectedWindows)/\(i.windows), precision \(p(i.precision)), recall \(p(i.recall)), F1 \(p(i.f1))"
            if let d = i.medianDelaySeconds { s += ", median delay \(Int(d)) s" }
            if i.rootCauseWindows > 0 { s += ", root cause first \(i.rootCauseFirst)/\(i.rootCauseWindows)" }
            if let nab = r.detectors.nab?["standard"] { s += "; detector series F1 \(p(r.detectors.f1)), NAB standard \(String(format: "%.1f", nab))" }
        }
        return s
    }

    private func note(_ s: String) { FileHandle.standardError.write(Data("vigil replay: \(s)\n".utf8)) }

    /// A time option: absolute, relative to `now` (-30m), or the open end (nil).
    static func time(_ text: String, name: String, now: Int64) throws -> Int64? {
        if text == "earliest" || text == "end" { return nil }
        if text == "now" { return now }
        if text.hasPrefix("-"), let unit = text.last, let n = Int64(text.dropFirst().dropLast()), n >= 0 {
            let scale: Int64? = ["s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000][String(unit)]
            if let scale { return now - n * scale }
        }
        guard let t = TimeText.parse(text) else {
            throw ValidationError("\(name) '\(text)': not a time; give RFC 3339 (2026-12-04T10:00:00Z), ms since 1970, -30m/-2h/-1d, or \(name == "--from" ? "earliest" : "end")")
        }
        return t
    }
}
