import ArgumentParser
import Foundation
import Ingest
import Logging
import Stream

/// `vigil otlp-dump`: what Vigil decodes from the Collector's topics, one JSON line per span,
/// log record or data point. For checking a pipeline by eye, and for the interoperability test.
struct OTLPDumpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "otlp-dump",
        abstract: "Consumes OTLP from Kafka and prints each decoded span, log record or metric point as JSON.",
        discussion: """
            Reads as consumer group --group (offsets are not committed: checkpointing is off), \
            from --start. Undecodable messages go to the dead-letter topic.
            """
    )

    enum Signal: String, ExpressibleByArgument, CaseIterable {
        case spans, logs, metrics
    }

    @OptionGroup var input: OTLPInputOptions
    @Option(help: "spans, logs or metrics.") var signal: Signal
    @Option(help: "Write the JSON lines into this directory (file part-0) instead of standard output.") var output: String?

    func run() throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        let encoding = input.otlpEncoding
        let env = StreamEnvironment(name: "otlp-dump", parallelism: 1)
        let defaultTopic = switch signal {
        case .spans: OTLPTopics.spans
        case .logs: OTLPTopics.logs
        case .metrics: OTLPTopics.metrics
        }
        let options = try input.sourceOptions(defaultTopic: defaultTopic, defaultGroup: "vigil-otlp-dump")
        let lines: DataStream<String> = switch signal {
        case .spans: env.kafkaSource(options) { OTLPSpanDecoder(encoding: encoding) }.map { TelemetryJSON.line($0) }
        case .logs: env.kafkaSource(options) { OTLPLogDecoder(encoding: encoding) }.map { TelemetryJSON.line($0) }
        case .metrics: env.kafkaSource(options) { OTLPMetricDecoder(encoding: encoding) }.map { TelemetryJSON.line($0) }
        }
        if let output {
            lines.writeLines(to: output)
        } else {
            lines.print()
        }
        _ = try env.execute()
        let c = IngestCounters.shared
        FileHandle.standardError.write(Data("otlp-dump: \(c.messages.load(ordering: .relaxed)) messages, \(c.deadLetters.load(ordering: .relaxed)) dead letters\n".utf8))
    }
}
