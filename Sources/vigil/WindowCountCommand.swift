import ArgumentParser
import Foundation
import Ingest
import Logging
import Stream
import Synchronization

/// `vigil window-count`: the scale-out example job. Counts "SEQ KEY TIME" records per key in
/// tumbling event-time windows, keyed by KEY whatever partitions the input; run it in as many
/// processes as you like with one `--group`, and they share the work (`docs/scaleout.md`).
struct WindowCountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "window-count",
        abstract: "Counts \"SEQ KEY TIME_MS\" records (one per line; a message may hold many) per key and tumbling window, scaled out over the processes of one group.",
        discussion: """
            Every process started with the same --group shares the input's partitions; records \
            are re-keyed through the repartition topic <group>-repartition, and each window's \
            state lives in the partition of its key, checkpointed locally and to the changelog \
            <group>-changelog. Output lines "key=K window=START count=N sum=S" are committed in \
            Kafka transactions (read them with isolation.level=read_committed). Stop with SIGTERM: \
            the process commits and leaves the group, and the others take over its partitions.
            """
    )

    @Option(help: "Kafka bootstrap servers.") var brokers: String
    @Option(help: "Input topic.") var input: String
    @Option(help: "Output topic.") var output: String
    @Option(help: "Group id (the same for every process of the job).") var group = "vigil-window-count"
    @Option(help: "This process's state directory (local checkpoints of its partitions).") var state: String
    @Option(help: "Partitions of the repartition and changelog topics (every process must agree).") var repartitionPartitions = 8
    @Option(help: "Window length, milliseconds.") var windowMs: Int64 = 1_000
    @Option(help: "Milliseconds between commits.") var commitIntervalMs: Int64 = 1_000
    @Option(help: "Allowed out-of-orderness of each input partition, milliseconds.") var outOfOrdernessMs: Int64 = 2_000
    @Option(help: "An input partition without records this long (ms) stops holding back event time.") var idleTimeoutMs: Int64 = 30_000
    @Option(help: "Dead-letter topic for undecodable and late input.") var deadLetterTopic = "vigil_dead_letters"
    @Option(help: "Extra librdkafka property KEY=VALUE for every client (repeatable).") var property: [String] = []
    @Option(help: "Serve /metrics (Prometheus text) on 127.0.0.1 at this port; 0: any free port (printed). None without it: several processes share a host.")
    var metricsPort: Int?

    struct Event: Sendable, StateCodable {
        var seq: Int64
        var key: String
        func encode(to w: inout StateWriter) { w.write(seq); w.write(key) }
        static func decode(from r: inout StateReader) throws -> Event { Event(seq: try r.read(), key: try r.readString()) }
    }

    /// One record per line: a message may carry a batch of them, as OTLP messages do. The
    /// whole message is checked before its first record is emitted.
    struct EventDecoder: KafkaMessageDecoder {
        struct Malformed: Error, CustomStringConvertible { var description: String }
        mutating func decode(_ m: KafkaMessage, emit: (Event, Timestamp) throws -> Void) throws {
            let text = String(decoding: m.value, as: UTF8.self)
            var events: [(Event, Timestamp)] = []
            for (n, line) in text.split(separator: "\n").enumerated() {
                let f = line.split(separator: " ")
                guard f.count == 3, let seq = Int64(f[0]), !f[1].isEmpty, let time = Int64(f[2]) else {
                    throw Malformed(description: "line \(n + 1): expected \"SEQ KEY TIME_MS\", got \(line.prefix(60).debugDescription)")
                }
                events.append((Event(seq: seq, key: String(f[1])), time))
            }
            for (event, time) in events { try emit(event, time) }
        }
    }

    func validate() throws {
        guard (1...128).contains(repartitionPartitions) else { throw ValidationError("--repartition-partitions must be within 1...128, got \(repartitionPartitions)") }
        guard windowMs > 0, commitIntervalMs > 0, outOfOrdernessMs >= 0, idleTimeoutMs > 0 else {
            throw ValidationError("--window-ms, --commit-interval-ms and --idle-timeout-ms must be positive, --out-of-orderness-ms not negative")
        }
        _ = try KafkaProperties(consumerProperties: property)
        if let port = metricsPort, !(0...65535).contains(port) { throw ValidationError("--metrics-port must be within 0...65535, got \(port)") }
    }

    func run() throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        var options = ScaleOutOptions(brokers: brokers, group: group, inputTopic: input, outputTopic: output,
                                      repartitionPartitions: repartitionPartitions, stateDirectory: state)
        options.commitInterval = .milliseconds(commitIntervalMs)
        options.outOfOrderness = .milliseconds(outOfOrdernessMs)
        options.partitionIdleTimeout = .milliseconds(idleTimeoutMs)
        options.deadLetterTopic = deadLetterTopic
        options.properties = try KafkaProperties(consumerProperties: property)
        let window = windowMs
        let job = try ScaleOutJob(options, decoder: { EventDecoder() }, key: \.key) { events in
            events.window(.tumbling(.milliseconds(window))).aggregate(StatsAggregate { Double($0.seq) }) { key, w, s in
                "key=\(key) window=\(w.start) count=\(s.count) sum=\(Int64(s.sum))"
            }
        } encode: { line in
            KafkaOutputRecord(key: Array(line.split(separator: " ")[0].utf8), value: Array(line.utf8))
        }
        if let port = metricsPort {
            let metrics = try MetricsEndpoint(port: port, scaleOut: true)
            FileHandle.standardError.write(Data("vigil window-count: metrics at http://127.0.0.1:\(metrics.port)/metrics\n".utf8))
        }
        ScaleOutStop.install()
        try job.run { ScaleOutStop.requested.load(ordering: .relaxed) }
        print("stopped: \(ScaleOutCounters.shared.summary)")
    }
}

/// SIGTERM and SIGINT ask a scaled-out job to commit, leave its groups and end.
enum ScaleOutStop {
    static let requested = Atomic<Bool>(false)
    static func install() {
        signal(SIGTERM) { _ in ScaleOutStop.requested.store(true, ordering: .relaxed) }
        signal(SIGINT) { _ in ScaleOutStop.requested.store(true, ordering: .relaxed) }
    }
}
