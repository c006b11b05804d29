import Foundation
import Remediate
import Stream
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Remediation: how fast the policy engine decides, how fast decisions go through the runtime,
/// the outbox and the dispatcher into the audit log, and what the dispatcher costs over raw
/// webhooks and raw program starts (the same requests with a plain URLSession loop, the same
/// program started by a posix_spawn loop), measured in the same run.
func remediateBenchmark(quick: Bool) throws -> Figures {
    var f = Figures()
    let incidents = quick ? 20_000 : 100_000
    let burst = (0..<incidents).map(benchIncident)
    let counted: ActionSpec = .kafka(KafkaSpec(topic: "bench"))
    let config = RemediationConfig {
        Policy(name: "dedup", actions: [counted]).deduplicated(by: "{root_cause.entity}", withinMinutes: 1)
        Policy(name: "cooldown", match: IncidentMatch(minimumSeverity: .critical), actions: [counted]).cooldown(minutes: 1)
        Policy(name: "rate", actions: [counted]).rateLimited(10, perMinutes: 1)
        Policy(name: "entity", match: IncidentMatch(rootCauseEntities: ["svc-1*"]), actions: [counted]).dryRunOnly()
        Policy(name: "none", match: IncidentMatch(rootCauseKinds: ["peer"]), actions: [counted])
    }

    // 1. The engine alone.
    let engine = PolicyEngine(config: config)
    var decisions = 0
    var engineSeconds: [Double] = []
    for _ in 0..<5 {
        var state = PolicyState(epoch: "bench")
        var n = 0
        engineSeconds.append(time { for i in burst { n += engine.decide(i, state: &state).count } })
        decisions = n
    }
    let engineRate = Double(incidents) / median(engineSeconds)
    f["engine_incidents_per_s"] = engineRate
    f["engine_decisions_per_incident"] = Double(decisions) / Double(incidents)

    // 2. Runtime + outbox + dispatcher (audit log), actions counted in memory.
    let base = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-bench-remediate-\(UUID())").path
    defer { try? FileManager.default.removeItem(atPath: base) }
    var pipelineSeconds: [Double] = []
    var audited = 0
    for run in 0..<3 {
        let dir = "\(base)/pipeline-\(run)"
        let produced = Counter()
        let dispatcher = try ActionDispatcher(directory: dir, kafka: { _, _ in produced.add() })
        let env = StreamEnvironment(name: "remediate-bench", parallelism: 1)
        env.checkpointing = CheckpointConfig(directory: dir + "/state", interval: .milliseconds(200))
        env.fromCollection(burst, name: "incidents", parallelism: 1).remediate(config, dispatcher: dispatcher)
        dispatcher.start()
        pipelineSeconds.append(try time {
            _ = try env.execute()
            _ = try dispatcher.drain(timeout: 600)
        })
        dispatcher.stop()
        audited = try AuditLog.read(path: dir + "/audit.jsonl").records.count
    }
    let pipelineRate = Double(incidents) / median(pipelineSeconds)
    f["pipeline_incidents_per_s"] = pipelineRate
    f["pipeline_audit_lines"] = Double(audited)

    // 3. Webhooks: the dispatcher against a plain URLSession loop, same receiver, same count.
    let hooks = quick ? 100 : 300
    let receiver = try PythonReceiver(directory: base)
    defer { receiver.stop() }
    let webhookConfig = RemediationConfig {
        Policy(name: "hook", actions: [.webhook(WebhookSpec(url: receiver.url, body: .alertmanager))])
    }
    let dispatcherHooks = try time {
        try runThroughDispatcher(webhookConfig, Array(burst.prefix(hooks)), dir: "\(base)/hooks")
    }
    let session = URLSession(configuration: .ephemeral)
    let body = Data(#"[{"labels":{"alertname":"x"}}]"#.utf8)
    let rawHooks = time {
        for i in 0..<hooks {
            var r = URLRequest(url: URL(string: receiver.url)!)
            r.httpMethod = "POST"
            r.httpBody = body
            r.setValue("k\(i)", forHTTPHeaderField: "Idempotency-Key")
            let done = DispatchSemaphore(value: 0)
            session.dataTask(with: r) { _, _, _ in done.signal() }.resume()
            done.wait()
        }
    }
    f["webhooks_per_s"] = Double(hooks) / dispatcherHooks
    f["raw_urlsession_posts_per_s"] = Double(hooks) / rawHooks
    f["webhook_ratio_vs_raw"] = rawHooks / dispatcherHooks

    // 4. Exec actions against a hand-written posix_spawn + waitpid loop of the same program
    // (Foundation's Process is no fair reference: it waits for exit by polling).
    let execs = quick ? 100 : 300
    let execConfig = RemediationConfig { Policy(name: "exec", actions: [.exec(ExecSpec(program: "/bin/true", arguments: ["{incident.id}"]))]) }
    let dispatcherExecs = try time { try runThroughDispatcher(execConfig, Array(burst.prefix(execs)), dir: "\(base)/execs") }
    let rawExecs = time {
        for i in 0..<execs {
            let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/true"), strdup(String(i)), nil]
            var pid: pid_t = 0
            if posix_spawn(&pid, "/bin/true", nil, nil, argv, [nil]) == 0 {
                var status: Int32 = 0
                waitpid(pid, &status, 0)
            }
            for p in argv { free(p) }
        }
    }
    f["execs_per_s"] = Double(execs) / dispatcherExecs
    f["raw_posix_spawns_per_s"] = Double(execs) / rawExecs
    f["exec_ratio_vs_raw"] = rawExecs / dispatcherExecs

    printTable("remediation (\(incidents) incidents, 5 policies; medians)", [
        ("policy engine", "\(formatRate(engineRate)) incidents (\(String(format: "%.1f", Double(decisions) / Double(incidents))) decisions each)"),
        ("runtime + outbox + dispatcher", "\(formatRate(pipelineRate)) incidents, \(audited) audit lines"),
        ("webhooks (Alertmanager body)", String(format: "%.0f/s; raw URLSession loop %.0f/s; ratio %.2f", Double(hooks) / dispatcherHooks, Double(hooks) / rawHooks, rawHooks / dispatcherHooks)),
        ("exec /bin/true", String(format: "%.0f/s; raw posix_spawn loop %.0f/s; ratio %.2f", Double(execs) / dispatcherExecs, Double(execs) / rawExecs, rawExecs / dispatcherExecs)),
    ])
    return f
}

/// Incident `i`: one of 40 services, a tenth of a second after the one before; every third
/// one with failing requests (critical).
private func benchIncident(_ i: Int) -> RemediationIncident {
    let service = "svc-\(i % 40)"
    let kinds: [String] = i % 3 == 0 ? ["error_ratio"] : ["p99_ms"]
    let cause = RemediationIncident.Cause(entity: service, entityKind: "service", score: 0.9, evidence: ["latency p99 ×8"], path: [service])
    let t = Int64(i) * 100
    return RemediationIncident(change: "opened", id: UInt64(i + 1), openedMs: t, lastEvidenceMs: t, anomalies: 2, anomalyKinds: kinds,
                               entities: [service], services: [service], causes: [cause], summary: service + " is slow")
}

/// `config` over `incidents` through the runtime (checkpoint at the end), the outbox and a
/// dispatcher pass.
private func runThroughDispatcher(_ config: RemediationConfig, _ incidents: [RemediationIncident], dir: String) throws {
    let dispatcher = try ActionDispatcher(directory: dir)
    let env = StreamEnvironment(name: "remediate-bench", parallelism: 1)
    env.fromCollection(incidents, name: "incidents", parallelism: 1).remediate(config, dispatcher: dispatcher)
    _ = try env.execute()
    try dispatcher.runOnce()
}

private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func add() { lock.lock(); n += 1; lock.unlock() }
}

/// A minimal HTTP receiver (Python's http.server) answering 200 to every POST.
private final class PythonReceiver {
    let process = Process()
    let url: String

    init(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let portFile = directory + "/port"
        let script = """
            import os, sys
            from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
            class H(BaseHTTPRequestHandler):
                protocol_version = "HTTP/1.1"
                def do_POST(self):
                    self.rfile.read(int(self.headers.get("Content-Length", "0")))
                    self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
                def log_message(self, *a): pass
            s = ThreadingHTTPServer(("127.0.0.1", 0), H)
            open(sys.argv[1] + ".tmp", "w").write(str(s.server_address[1])); os.rename(sys.argv[1] + ".tmp", sys.argv[1])
            s.serve_forever()
            """
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", script, portFile]
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: portFile) {
            guard Date() < deadline else { throw NSError(domain: "the Python receiver did not start", code: 1) }
            Thread.sleep(forTimeInterval: 0.02)
        }
        url = "http://127.0.0.1:\(try String(contentsOfFile: portFile, encoding: .utf8))/api/v2/alerts"
    }

    func stop() { process.terminate(); process.waitUntilExit() }
}
