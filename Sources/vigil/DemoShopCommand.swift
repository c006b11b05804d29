import AIOps
import ArgumentParser
import Foundation
import Ingest
import Stream

/// `vigil demo-shop`: the demo's simulated shop sending its OTLP spans and logs to any Kafka,
/// so `vigil run --brokers` and `vigil replay` can be tried on a real cluster (or `vigil broker`).
struct DemoShopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo-shop",
        abstract: "Sends the demo shop's telemetry (twelve services, one fault) to Kafka topics.",
        discussion: """
            The same simulated shop as `vigil run` without --brokers: ten minutes of normal \
            traffic, the fault for three, five minutes after it, in event time --speed times \
            faster than the clock, ending near the present. --labels-out writes the fault's \
            window as a labels file for `vigil replay --labels`.
            """
    )

    @Option(help: "Kafka bootstrap servers.") var brokers: String
    @Option(help: "The fault to inject: \(DemoApplication.Fault.allCases.map(\.rawValue).joined(separator: ", ")).") var fault = "db-latency"
    @Option(help: "How much faster than the clock event time runs.") var speed = 40.0
    @Option(help: "Topic of OTLP spans.") var spansTopic = OTLPTopics.spans
    @Option(help: "Topic of OTLP logs.") var logsTopic = OTLPTopics.logs
    @Option(help: "Requests per second through the shop's front end (event time).") var requestsPerSecond = 20
    @Option(help: "Producer compression (none, gzip, snappy, lz4, zstd), as the Collector's exporter can.") var compression = "zstd"
    @Option(help: "Write the fault's window (event time) as a labels file for vigil replay.") var labelsOut: String?

    func validate() throws {
        guard DemoApplication.Fault(rawValue: fault) != nil else {
            throw ValidationError("--fault \(fault): unknown; choose from \(DemoApplication.Fault.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard speed >= 1 && speed <= 1000 else { throw ValidationError("--speed must be within 1...1000, got \(speed)") }
        guard (1...1000).contains(requestsPerSecond) else { throw ValidationError("--requests-per-second must be within 1...1000, got \(requestsPerSecond)") }
        guard ["none", "gzip", "snappy", "lz4", "zstd"].contains(compression) else {
            throw ValidationError("--compression \(compression): choose from none, gzip, snappy, lz4, zstd")
        }
    }

    func run() throws {
        let fault = DemoApplication.Fault(rawValue: fault)!
        var schedule = DemoWorkload.Schedule()
        schedule.speed = speed
        schedule.requestsPerSecond = requestsPerSecond
        let workload = try DemoWorkload(brokers: brokers, fault: fault, schedule: schedule, spansTopic: spansTopic, logsTopic: logsTopic,
                                        properties: ["log_level": "3", "compression.codec": compression])
        if let labelsOut {
            let window = LabelledWindow(name: fault.rawValue, start: workload.faultStartMs, end: workload.faultEndMs,
                                        series: ["\(fault.culpritService) *"], rootCause: fault.culprit)
            let text = """
                {"windows": [{"name": "\(window.name)", "start": "\(TimeText.rfc3339(window.start))", "end": "\(TimeText.rfc3339(window.end))", \
                "series": ["\(window.series[0])"], "root_cause": "\(window.rootCause!)"}]}

                """
            try text.write(toFile: labelsOut, atomically: true, encoding: .utf8)
        }
        say("demo-shop: event time \(TimeText.rfc3339(workload.startMs)) to \(TimeText.rfc3339(workload.startMs + schedule.historyMs + schedule.faultMs + schedule.afterMs)); "
              + "fault (\(fault.description)) \(TimeText.rfc3339(workload.faultStartMs)) to \(TimeText.rfc3339(workload.faultEndMs))")
        workload.start()
        try workload.wait()
        say("demo-shop: done")
    }

    /// Unbuffered: a script waiting on the line sees it now.
    private func say(_ s: String) { FileHandle.standardOutput.write(Data((s + "\n").utf8)) }
}
