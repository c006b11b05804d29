import ArgumentParser
import Foundation
import Stream

/// `vigil example`: the runtime on its own, no Kafka: the example topology of the README's
/// "Writing a topology".
struct ExampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "example",
        abstract: "Run the example topology: per-service latency windows with a baseline detector.",
        discussion: """
            Synthetic requests from a set of services (event time advancing 1 ms per request, \
            up to 500 ms out of order) are keyed by service, aggregated in 10 s tumbling \
            event-time windows, and compared with each service's learned baseline (keyed state). \
            Part-way through, one service's latency is multiplied: the detector reports it.
            """
    )

    @Option(help: "Number of synthetic requests.")
    var events = 2_000_000

    @Option(help: "Number of services.")
    var services = 12

    @Option(help: "Parallelism of every operator.")
    var parallelism = 2

    @Option(help: "The service whose latency degrades part-way through.")
    var faultService = "checkout"

    @Option(help: "Latency multiplier of the fault.")
    var faultFactor = 8.0

    @Flag(help: "Print every window's statistics, not only anomalies.")
    var verbose = false

    @Flag(help: "Print the physical plan (task chains and parallelism) before running.")
    var explain = false

    func validate() throws {
        guard events > 0 else { throw ValidationError("--events must be positive, got \(events)") }
        guard (1...1000).contains(services) else { throw ValidationError("--services must be within 1...1000, got \(services)") }
        guard (1...128).contains(parallelism) else { throw ValidationError("--parallelism must be within 1...128, got \(parallelism)") }
        guard faultFactor > 0 else { throw ValidationError("--fault-factor must be positive") }
    }

    func run() throws {
        let workload = LatencyWorkload(events: events, services: services, faultService: faultService, faultFactor: faultFactor)
        let env = StreamEnvironment(name: "latency-watch", parallelism: parallelism)
        let late = OutputTag<Request>("late")
        let windows = env.generate(count: events, name: "requests",
                                   watermarks: .boundedOutOfOrderness(.milliseconds(LatencyWorkload.disorder)) { $0.timestamp },
                                   workload.request)
            .keyBy(\.service)
            .window(.tumbling(.seconds(10)))
            .sideOutputLateData(late)
            .aggregate(name: "latency-window", LatencyStatsAggregate()) { service, window, stats in
                ServiceWindow(service: service, window: window, stats: stats)
            }
        let findings = windows.keyBy(\.service).process(name: "baseline-detector", BaselineDetector()).collect()
        let lateRecords = windows.sideOutput(late).discard(name: "late")

        if explain {
            print("plan:")
            for line in try env.describePlan() { print("  \(line)") }
        }
        print("running latency-watch: \(events) requests, \(services) services, parallelism \(parallelism); fault: \(faultService) ×\(faultFactor) from t=\(workload.faultStart / 1000)s")
        let started = Date()
        let result = try env.execute()
        let seconds = Date().timeIntervalSince(started)

        let all = findings.values
        for f in all where verbose || f.isAnomaly { print(f.text) }
        let anomalies = all.filter(\.isAnomaly)
        print(String(format: "done in %.2f s: %.2f M requests/s, %d service windows evaluated, %d anomalies, %d late records",
                     seconds, Double(events) / seconds / 1e6, all.count, anomalies.count, lateRecords.count))
        let backpressure = result.metrics.tasks.reduce(UInt64(0)) { $0 + $1.backpressureNanos } / 1_000_000
        print("tasks: \(result.metrics.tasks.count), time blocked by backpressure: \(backpressure) ms")
        if anomalies.isEmpty { throw ExitCode(3) }  // the injected fault must be found
    }
}
