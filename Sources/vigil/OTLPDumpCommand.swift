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

    @Option(help: "Kafka bootstrap servers.") var brokers: String
    @Option(help: "spans, logs or metrics.") var signal: Signal
    @Option(help: "Topic (default: the Collector's otlp_spans, otlp_logs or otlp_metrics).") var topic: String?
    @Option(help: "otlp_proto or otlp_json.") var encoding = "otlp_proto"
    @Option(help: "Consumer group id.") var group = "vigil-otlp-dump"
    @Option(help: "Where partitions without a committed offset start: earliest, latest, or a time in ms since the epoch.") var start = "earliest"
    @Option(help: "Dead-letter topic for undecodable messages.") var deadLetterTopic = "vigil_dead_letters"
    @Flag(help: "Stop once every assigned partition is read to its end (otherwise run until stopped).") var stopAtEnd = false
    @Option(help: "Write the JSON lines into this directory (file part-0) instead of standard output.") var output: String?

    func startingOffsets() throws -> KafkaSourceOptions.StartingOffsets {
        switch start {
        case "earliest": return .earliest
        case "latest": return .latest
        default:
            guard let ms = Int64(start), ms >= 0 else {
                throw ValidationError("--start must be earliest, latest or milliseconds since the epoch, got '\(start)'")
            }
            return .timestamp(ms)
        }
    }

    func validate() throws {
        _ = try startingOffsets()
        guard OTLPEncoding(rawValue: encoding) != nil else {
            throw ValidationError("--encoding must be one of \(OTLPEncoding.allCases.map(\.rawValue).joined(separator: ", ")), got '\(encoding)'")
        }
    }

    func run() throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        let encoding = OTLPEncoding(rawValue: encoding)!
        let env = StreamEnvironment(name: "otlp-dump", parallelism: 1)
        let defaultTopic = switch signal {
        case .spans: OTLPTopics.spans
        case .logs: OTLPTopics.logs
        case .metrics: OTLPTopics.metrics
        }
        var options = KafkaSourceOptions(brokers: brokers, topics: [topic ?? defaultTopic], groupID: group)
        options.boundedness = stopAtEnd ? .untilEndOfPartitions : .unbounded
        options.startingOffsets = try startingOffsets()
        options.deadLetterTopic = deadLetterTopic
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
