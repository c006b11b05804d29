import AIOps
import ArgumentParser
import Foundation
import Ingest
import Logging
import Remediate
import Stream

/// `vigil run`: the built-in AIOps job. With `--brokers` it runs on the Collector's topics until
/// stopped; without, it starts an embedded Kafka cluster and a simulated shop of twelve
/// services, injects a fault, and shows the incident, its root cause and the (dry-run)
/// remediation, in under a minute.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Runs the AIOps job; without --brokers, a demo: a simulated shop, a fault, the incident and its cause.",
        discussion: """
            Demo mode (no --brokers): an embedded Kafka cluster (librdkafka's mock cluster), a \
            simulated online shop of twelve services sending OTLP spans and logs to it in event \
            time 40 times faster than the clock (--speed), ten minutes of normal traffic, then a \
            fault (--fault db-latency: the orders database slows down; --fault error-burst: \
            payment fails a third of its charges) for three minutes. The job prints each \
            incident as it opens, changes its most likely cause, and closes, and what the \
            demo policies (dry run) would do. It ends once the incident has closed.
            """
    )

    @Option(help: "Configuration file (docs/configuration.md); its settings take precedence over the options below.") var config: String?
    @Option(help: "Kafka bootstrap servers; without them, the demo runs on an embedded cluster.") var brokers: String?
    @Option(help: "Demo: the fault to inject: \(DemoApplication.Fault.allCases.map(\.rawValue).joined(separator: ", ")).") var fault = "db-latency"
    @Option(help: "Demo: how much faster than the clock event time runs.") var speed = 40.0
    @Option(help: "Demo: stop after this many seconds even if no incident closed.") var timeoutSeconds = 180
    @Flag(help: "Print incident JSON lines instead of the readable report.") var json = false
    @Option(help: "Port of the engine's /metrics endpoint (Prometheus text) on 127.0.0.1; 0: any free port (printed).") var metricsPort = 9477
    @Flag(help: "No /metrics endpoint.") var noMetrics = false
    @OptionGroup var job: AIOpsJobOptions

    func validate() throws {
        guard DemoApplication.Fault(rawValue: fault) != nil else {
            throw ValidationError("--fault \(fault): unknown; choose from \(DemoApplication.Fault.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard speed >= 1 && speed <= 1000 else { throw ValidationError("--speed must be within 1...1000, got \(speed)") }
        guard timeoutSeconds > 0 else { throw ValidationError("--timeout-seconds must be positive, got \(timeoutSeconds)") }
        guard (0...65535).contains(metricsPort) else { throw ValidationError("--metrics-port must be within 0...65535, got \(metricsPort)") }
    }

    func run() throws {
        bootstrapWarningLogging()
        let settings = try VigilConfigFile.resolve(config: config, brokers: brokers, job: job, command: "run")
        let remediation = try settings.remediation ?? job.loadPolicies(command: "run")
        if let brokers = settings.brokers { return try live(brokers: brokers, settings.job, remediation) }
        try demo(settings, remediation)
    }

    /// On real topics, until stopped.
    private func live(brokers: String, _ job: AIOpsJobOptions, _ remediation: RemediationConfig?) throws {
        if remediation != nil && job.state == nil {
            throw ValidationError("remediation needs a state directory (--state or checkpoints.dir): an action runs only after its checkpoint")
        }
        let aiops = try AIOpsJob(job, brokers: brokers, name: "vigil", remediation: remediation, onAudit: printAudit)
        attachReport(aiops.incidents)
        aiops.dispatcher?.start()
        let metrics = metricsEndpoint()
        let handle = try aiops.environment.start()
        metrics?.attach(handle)
        let stop = GracefulStop(handle, command: "run", checkpointing: job.state != nil, stateDirectory: job.state)
        _ = try handle.wait()
        try aiops.finishRemediation(command: "run")
        withExtendedLifetime(stop) {}
    }

    private func demo(_ settings: VigilConfigFile, _ remediation: RemediationConfig?) throws {
        let fault = DemoApplication.Fault(rawValue: settings.demoFault ?? fault)!
        let speed = settings.demoSpeed ?? speed
        let cluster = try MockKafkaCluster(brokers: 1)
        for topic in [OTLPTopics.spans, OTLPTopics.logs, OTLPTopics.metrics, job.deadLetterTopic] { try cluster.createTopic(topic, partitions: 1) }
        var schedule = DemoWorkload.Schedule()
        schedule.speed = speed
        let workload = try DemoWorkload(brokers: cluster.bootstrapServers, fault: fault, schedule: schedule, properties: ["log_level": "2"])

        // The demo's own settings where the user left the defaults: a detector that learns in
        // minutes (the ensemble needs hours), windows sized to the simulated shop, state in a
        // temporary directory, and dry-run policies.
        var o = settings.job
        o.signals = [.spans, .logs]
        if o.detector == "ensemble" { o.detector = "ewma" }
        if o.quietSeconds == 300 { o.quietSeconds = 120 }
        if o.checkpointIntervalMs == 10_000 { o.checkpointIntervalMs = 1_000 }
        let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-demo-\(UUID().uuidString)").path
        if o.state == nil { o.state = temporary }
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        let policies = try remediation ?? PolicyFile.parse(Self.demoPolicies, file: "(built-in demo policies)")

        print("vigil demo: a shop of 12 services on an embedded Kafka cluster (\(cluster.bootstrapServers)), event time ×\(Int(speed))")
        print("  traffic: 20 requests/s through frontend, catalog, recommendation, ads, cart, checkout, currency, payment,")
        print("           shipping, quote, orders, email; databases mysql/catalog, postgresql/orders, redis/cart")
        print("  fault:   \(fault.description), after \(schedule.historyMs / 60_000) minutes of normal traffic, for \(schedule.faultMs / 60_000) minutes")
        print("  policies: \(policies.policies.map { $0.name + ($0.dryRun ? " (dry run)" : "") }.joined(separator: ", "))\n")

        // The embedded cluster's clients keep quiet: their disconnects at the end are no news.
        let aiops = try AIOpsJob(o, brokers: cluster.bootstrapServers, name: "vigil-demo", remediation: policies,
                                 kafkaProperties: ["log_level": "2"], onAudit: printAudit)
        let closed = OnceFlag()
        attachReport(aiops.incidents)
        // The demo is over once an incident that the fault opened has closed.
        let faultStart = workload.faultStartMs
        _ = aiops.incidents.process(name: "demo end") { (i: RemediationIncident, _: ProcessContext<Never>) in
            if i.change == "closed" && i.openedMs >= faultStart - 60_000 { closed.set() }
        }
        let started = Date()
        let metrics = metricsEndpoint()
        let handle = try aiops.environment.start()
        metrics?.attach(handle)
        let stop = GracefulStop(handle, command: "run", checkpointing: true, stateDirectory: o.state)
        aiops.dispatcher?.start()
        workload.start()
        var lastProgress = Date.distantPast
        while !closed.isSet && stop.stoppedBy == nil && Date().timeIntervalSince(started) < Double(timeoutSeconds) {
            Thread.sleep(forTimeInterval: 0.2)
            if Date().timeIntervalSince(lastProgress) >= 5 && !json {
                lastProgress = Date()
                let t = workload.eventTime
                let phase = t < workload.faultStartMs ? "normal traffic" : t < workload.faultEndMs ? "FAULT ACTIVE" : "fault over"
                print(String(format: "  [%5.1f s] shop time +%d min %02d s: %@", Date().timeIntervalSince(started),
                             (t - workload.startMs) / 60_000, (t - workload.startMs) / 1000 % 60, phase))
            }
        }
        workload.stop()
        // What the last decisions make must run: one more checkpoint releases them.
        if aiops.dispatcher != nil && stop.stoppedBy == nil { _ = try? handle.triggerCheckpoint() }
        try aiops.finishRemediation(command: "run")
        handle.cancel()
        _ = try handle.wait()
        try workload.wait()
        if stop.stoppedBy != nil {
            print("\nstopped")
            return
        }
        if closed.isSet {
            print("\ndone in \(String(format: "%.1f", Date().timeIntervalSince(started))) s: the fault's incident closed. "
                  + "Run on your own topics with: vigil run --brokers HOST:PORT --state DIR [--policies FILE]")
        } else {
            print("\nstopped after \(timeoutSeconds) s: no incident of the fault closed")
            throw ExitCode(1)
        }
    }

    /// The /metrics endpoint, unless turned off; a port already taken is a warning, not a
    /// reason not to run.
    private func metricsEndpoint() -> MetricsEndpoint? {
        guard !noMetrics else { return nil }
        do {
            let m = try MetricsEndpoint(port: metricsPort)
            FileHandle.standardError.write(Data("vigil run: metrics at http://127.0.0.1:\(m.port)/metrics\n".utf8))
            return m
        } catch {
            FileHandle.standardError.write(Data("vigil run: warning: \(error); running without /metrics (--metrics-port to choose another)\n".utf8))
            return nil
        }
    }

    private func attachReport(_ incidents: DataStream<RemediationIncident>) {
        if json {
            incidents.map { JSONLines.line(kind: "incident", $0) }.print()
        } else {
            incidents.map(name: "report") { IncidentReportText.text($0) }.print()
        }
    }

    private var printAudit: @Sendable (AuditRecord) -> Void {
        let json = self.json
        return { r in
            guard !json, r.event != .started else { return }
            print(IncidentReportText.text(r))
        }
    }

    /// What the demo does about incidents when no --policies is given: nothing for real.
    static let demoPolicies = """
        policies:
          - name: page-oncall
            match: {severity: warning}
            dry_run: true
            actions:
              - webhook: {url: "http://alertmanager.example:9093/api/v2/alerts", body: alertmanager}
          - name: restart-service
            match: {root_cause_kind: [service, operation]}
            dry_run: true
            actions:
              - exec: {program: /usr/bin/kubectl, args: [rollout, restart, "deployment/{root_cause.service}"]}
          - name: fail-over-database
            match: {root_cause_kind: peer}
            dry_run: true
            actions:
              - exec: {program: /usr/local/bin/db-failover, args: ["{root_cause.entity}"]}
        """
}

/// A flag set from a task thread and read from the main one.
final class OnceFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.lock(); value = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}
