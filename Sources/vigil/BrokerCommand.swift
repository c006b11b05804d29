import ArgumentParser
import Foundation
import Ingest

/// `vigil broker`: librdkafka's mock cluster as a stand-alone Kafka for development and tests.
struct BrokerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Runs an embedded Kafka (librdkafka's mock cluster) until stopped.",
        discussion: """
            Prints its bootstrap servers, then serves the Kafka protocol on loopback until \
            SIGINT/SIGTERM. Data lives in memory only: for development and tests. Point \
            --brokers of other commands (or any Kafka client, kcat included) at it.
            """
    )

    @Option(help: "Number of brokers.")
    var brokers = 3

    @Option(name: .customLong("topic"), help: "A topic to create, NAME or NAME:PARTITIONS (repeatable), besides Vigil's own (dead letters, transaction markers). Default: the Collector's otlp_spans, otlp_metrics, otlp_logs with 4 partitions.")
    var topics: [String] = []

    @Option(help: "Also write the bootstrap servers to this file (for scripts).")
    var bootstrapFile: String?

    @Option(help: "Fault injection: every broker answers after this many milliseconds (a slow or distant cluster).")
    var rttMs = 0

    @Option(name: .customLong("fail-requests"), help: "Fault injection: API:ERROR[,ERROR...] fails the next requests of that API with these errors, one each (repeatable); e.g. JoinGroup:INVALID_SESSION_TIMEOUT, the refusal a stock broker gives a session timeout under its minimum. API and errors by name or number.")
    var failRequests: [String] = []

    func validate() throws {
        guard (1...16).contains(brokers) else { throw ValidationError("--brokers must be within 1...16, got \(brokers)") }
        for t in topics { _ = try Self.parseTopic(t) }
        guard (0...60_000).contains(rttMs) else { throw ValidationError("--rtt-ms must be within 0...60000, got \(rttMs)") }
        for f in failRequests {
            do { _ = try MockKafkaCluster.parseRequestFault(f) } catch { throw ValidationError("--fail-requests: \(error)") }
        }
    }

    static func parseTopic(_ spec: String) throws -> (String, Int) {
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty else {
            throw ValidationError("--topic '\(spec)': expected NAME or NAME:PARTITIONS")
        }
        guard parts.count == 2 else { return (String(parts[0]), 4) }
        guard let n = Int(parts[1]), (1...1024).contains(n) else {
            throw ValidationError("--topic '\(spec)': partitions must be a number within 1...1024")
        }
        return (String(parts[0]), n)
    }

    func run() throws {
        let cluster = try MockKafkaCluster(brokers: brokers, markersTopic: false)
        // The mock cluster does not implement CreateTopics, so Vigil's own topics are made here.
        let wanted = (topics.isEmpty ? ["otlp_spans:4", "otlp_metrics:4", "otlp_logs:4"] : topics)
            + ["vigil_dead_letters:1", "\(KafkaSinkOptions.defaultMarkersTopic):1"]
        var created = Set<String>()
        for spec in wanted {
            let (name, partitions) = try Self.parseTopic(spec)
            guard created.insert(name).inserted else { continue }  // the first mention wins
            try cluster.createTopic(name, partitions: partitions, replicationFactor: min(3, brokers))
        }
        if rttMs > 0 {
            for broker in 1...brokers { cluster.setRoundTripTime(broker: Int32(broker), milliseconds: Int32(rttMs)) }
        }
        for f in failRequests {
            let (api, errors) = try MockKafkaCluster.parseRequestFault(f)
            cluster.pushRequestErrors(apiKey: api, errors)
        }
        if let bootstrapFile {
            try (cluster.bootstrapServers + "\n").write(toFile: bootstrapFile, atomically: true, encoding: .utf8)
        }
        print("bootstrap.servers=\(cluster.bootstrapServers)")
        print("topics: \(wanted.joined(separator: " "))")
        fflush(nil)
        signal(SIGINT) { _ in Foundation.exit(0) }
        signal(SIGTERM) { _ in Foundation.exit(0) }
        withExtendedLifetime(cluster) {
            while true { sleep(3600) }
        }
    }
}
