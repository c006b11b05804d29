import ArgumentParser
import Ingest
import Stream

/// `error-budget`: per-tenant SLO burn-rate alerts from OTLP spans in Kafka, as one member of
/// a consumer group (run more with the same --group to share the partitions).
@main
struct ErrorBudgetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "error-budget",
        abstract: "Alerts when a tenant burns its error budget too fast (multi-window burn rate over OTLP spans).",
        discussion: """
            A tenant is the resource attribute tenant.id, or service.name where spans carry \
            none. Each request is its server span; a span with status ERROR is a bad request.
            """
    )

    @Option(help: "Kafka bootstrap servers.") var brokers: String
    @Option(help: "Topic of OTLP spans (otlp_proto).") var topic = OTLPTopics.spans
    @Option(help: "Consumer group.") var group = "error-budget"
    @Option(help: "SLO: the share of requests that must succeed.") var objective = 0.999
    @Option(help: "Short window, minutes.") var shortWindowMinutes = 5
    @Option(help: "Long window, minutes.") var longWindowMinutes = 60
    @Option(help: "Alert when both windows burn the budget this many times faster than the SLO allows.") var burnRate = 14.4
    @Option(help: "Requests the short window needs before it judges.") var minimumRequests = 20
    @Option(help: "State directory: checkpoints (counts, Kafka offsets); offsets are committed to the group with each.") var state: String?
    @Flag(help: "Stop once every assigned partition is read to its end.") var stopAtEnd = false

    func validate() throws {
        guard objective > 0 && objective < 1 else { throw ValidationError("--objective must be within (0, 1), got \(objective)") }
        guard shortWindowMinutes > 0, longWindowMinutes >= shortWindowMinutes else {
            throw ValidationError("the windows must be positive and the long one no shorter than the short one")
        }
        guard burnRate > 0 else { throw ValidationError("--burn-rate must be positive, got \(burnRate)") }
    }

    func run() throws {
        let env = StreamEnvironment(name: "error-budget", parallelism: 1)
        if let state { env.checkpointing = CheckpointConfig(directory: state, interval: .seconds(10)) }
        var source = KafkaSourceOptions(brokers: brokers, topics: [topic], groupID: group)
        source.outOfOrderness = .seconds(5)
        source.boundedness = stopAtEnd ? .untilEndOfPartitions : .unbounded
        let policy = BurnRatePolicy(objective: objective, shortWindow: Int64(shortWindowMinutes) * 60_000, longWindow: Int64(longWindowMinutes) * 60_000,
                                    bucket: 60_000 / 4, threshold: burnRate, minimumRequests: minimumRequests)

        env.kafkaSource(source) { OTLPSpanDecoder(encoding: .proto) }
            .process(name: "requests") { (span: SpanRecord, out: ProcessContext<Outcome>) in
                guard span.kind == .server else { return }
                let resource = span.origin.resourceAttributes
                let tenant = resource.string("tenant.id") ?? resource.string("service.name") ?? "unknown"
                try out.emit(Outcome(tenant: tenant, isError: span.statusCode == .error))
            }
            .keyBy(\.tenant)
            .process(name: "burn-rate", BurnRateFunction(policy: policy))
            .map { $0.description }
            .print()
        _ = try env.execute()
    }
}
