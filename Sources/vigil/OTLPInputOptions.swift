import ArgumentParser
import Ingest

/// Where a command reads OTLP from Kafka: the options `otlp-dump` and `logs anomalies` share.
struct OTLPInputOptions: ParsableArguments {
    @Option(help: "Kafka bootstrap servers.") var brokers: String
    @Option(help: "Topic (default: the Collector's topic for the signal: otlp_spans, otlp_logs or otlp_metrics).") var topic: String?
    @Option(help: "otlp_proto or otlp_json.") var encoding = "otlp_proto"
    @Option(help: "Consumer group id (default: the command's own).") var group: String?
    @Option(help: "Where partitions without a committed offset start: earliest, latest, or a time in ms since the epoch.") var start = "earliest"
    @Option(help: "Dead-letter topic for undecodable messages.") var deadLetterTopic = "vigil_dead_letters"
    @Flag(help: "Stop once every assigned partition is read to its end (otherwise run until stopped).") var stopAtEnd = false

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

    var otlpEncoding: OTLPEncoding { OTLPEncoding(rawValue: encoding)! }

    func validate() throws {
        _ = try startingOffsets()
        guard OTLPEncoding(rawValue: encoding) != nil else {
            throw ValidationError("--encoding must be one of \(OTLPEncoding.allCases.map(\.rawValue).joined(separator: ", ")), got '\(encoding)'")
        }
    }

    func sourceOptions(defaultTopic: String, defaultGroup: String) throws -> KafkaSourceOptions {
        var options = KafkaSourceOptions(brokers: brokers, topics: [topic ?? defaultTopic], groupID: group ?? defaultGroup)
        options.boundedness = stopAtEnd ? .untilEndOfPartitions : .unbounded
        options.startingOffsets = try startingOffsets()
        options.deadLetterTopic = deadLetterTopic
        return options
    }
}
