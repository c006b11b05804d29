import AIOps
import ArgumentParser
import Detectors
import Foundation
import Ingest
import Logging
import RCA
import Remediate
import Stream

/// `vigil incidents`: the AIOps pipeline over the Collector's Kafka topics — RED metrics and
/// log anomalies detected, spans, log lines and gauges in the knowledge graph, anomalies
/// grouped into incidents with their causes ranked. One JSON line per incident report.
struct IncidentsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "incidents",
        abstract: "Incidents and their ranked root causes from OTLP spans, logs and metrics in Kafka.",
        discussion: """
            Reads the topics of the signals given (--signal, repeatable; default all three). \
            Prints {"kind":"incident","change":"opened"|"updated"|"closed",...} lines: the \
            incident's anomalies and entities, and its first candidates with their evidence and \
            the path of anomalous callers that leads to each. A report is made when an incident \
            opens, when its first-ranked cause changes, and when it closes (--quiet-seconds \
            without new anomalies).
            """
    )

    @Option(help: "Kafka bootstrap servers.") var brokers: String
    @OptionGroup var job: AIOpsJobOptions

    func run() throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        let remediation = try job.loadPolicies(command: "incidents")
        let aiops = try AIOpsJob(job, brokers: brokers, name: "incidents", remediation: remediation)
        if job.output == nil { aiops.incidents.map { JSONLines.line(kind: "incident", $0) }.print() }
        aiops.dispatcher?.start()
        let handle = try aiops.environment.start()
        let stop = GracefulStop(handle, command: "incidents", checkpointing: job.state != nil, stateDirectory: job.state)
        _ = try handle.wait()
        try aiops.finishRemediation(command: "incidents")
        withExtendedLifetime(stop) {}
        let c = IngestCounters.shared
        FileHandle.standardError.write(Data("incidents: \(c.messages.load(ordering: .relaxed)) messages, \(c.deadLetters.load(ordering: .relaxed)) dead letters\n".utf8))
    }
}
