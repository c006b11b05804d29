import ArgumentParser
import Detectors
import Foundation
import Ingest
import Logging
import Stream

/// `vigil logs anomalies`: the log-anomaly operator on OTLP logs from Kafka, as the Collector
/// writes them. One JSON line per anomaly.
struct LogsAnomaliesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "anomalies",
        abstract: "Finds new log templates, template rate shifts and error bursts per service in OTLP logs from Kafka.",
        discussion: """
            Each log record's body is mined for its template, per service (resource attribute \
            service.name), and counted per event-time window (the record's time). Prints one JSON \
            line per anomaly: kind (new_template, rate_shift, error_burst), service, window, \
            template, observed and expected counts, score. A service's first --warmup-windows \
            windows only build its baseline.
            """
    )

    @OptionGroup var input: OTLPInputOptions
    @Option(help: "Window length in seconds.") var windowSeconds = 60
    @Option(help: "Windows that only build a service's baseline.") var warmupWindows = 5
    @Option(help: "Standard deviations from the baseline that make an anomaly.") var threshold = 4.0
    @Option(help: "…and at least this many messages away from it.") var minimumChange = 5.0
    @Option(name: .customLong("mask"), help: "A regex (Python/PCRE syntax) whose matches are parameters; repeatable.") var masks: [String] = []
    @Option(help: "Share of a template's tokens a message must match to join it.") var similarity = 0.5
    @Option(help: "Templates kept per service (least recently used evicted).") var maxTemplates = 10_000
    @Option(help: "Write the JSON lines into this directory (file part-0) instead of standard output.") var output: String?

    var config: LogAnomalyConfig {
        LogAnomalyConfig(miner: TemplateMinerConfig(similarity: similarity, masks: masks, maxTemplates: maxTemplates),
                         window: .seconds(Int64(windowSeconds)), warmupWindows: warmupWindows,
                         threshold: threshold, minimumChange: minimumChange)
    }

    func validate() throws {
        if let problem = config.problem { throw ValidationError(problem) }
        for mask in masks {
            do { _ = try PCRERegex(mask) } catch { throw ValidationError("--mask: \(error)") }
        }
    }

    func run() throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        let encoding = input.otlpEncoding
        let env = StreamEnvironment(name: "logs-anomalies", parallelism: 1)
        let options = try input.sourceOptions(defaultTopic: OTLPTopics.logs, defaultGroup: "vigil-logs-anomalies")
        let anomalies = env.kafkaSource(options) { OTLPLogDecoder(encoding: encoding) }
            .map { LogEvent(service: $0.origin.serviceName, severityNumber: $0.severityNumber, message: $0.bodyText) }
            .logAnomalies(config)
            .map { JSONLines.line($0) }
        if let output { anomalies.writeLines(to: output) } else { anomalies.print() }
        _ = try env.execute()
        let c = IngestCounters.shared
        FileHandle.standardError.write(Data("logs anomalies: \(c.messages.load(ordering: .relaxed)) messages, \(c.deadLetters.load(ordering: .relaxed)) dead letters\n".utf8))
    }
}
