import Foundation
import Stream
import XCTest
@testable import Remediate

final class ActionTests: XCTestCase {
    var dir = ""

    override func setUp() { dir = RemediateFixtures.temporaryDirectory("actions") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// Runs `config` over `incidents` as the job does (engine, outbox, dispatcher) and returns
    /// the dispatcher after one pass.
    func remediate(_ config: RemediationConfig, _ incidents: [RemediationIncident]) throws -> ActionDispatcher {
        let dispatcher = try ActionDispatcher(directory: dir + "/remediation", retrySleep: { _ in })
        let env = StreamEnvironment(name: "remediate", parallelism: 1)
        let (stream, input) = env.manualSource(RemediationIncident.self)
        stream.remediate(config, dispatcher: dispatcher)
        let run = try env.embedded()
        for i in incidents { input.send(i) }
        input.end()
        try run.runUntilIdle()
        try dispatcher.runOnce()
        return dispatcher
    }

    struct Recorded: Decodable { var argv: [String]; var env: [String: String] }

    func recorded(_ file: String) throws -> [Recorded] {
        try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").map { try JSONDecoder().decode(Recorded.self, from: Data($0.utf8)) }
    }

    // MARK: exec

    /// Incident fields written by someone who controls a log line or a service name reach the
    /// program as literal, single arguments; no shell runs, so nothing else is executed.
    func testHostileIncidentFieldsReachTheProgramAsLiteralSingleArguments() throws {
        let canary = dir + "/pwned"
        let hostile = [
            "; rm -rf / ; touch \(canary)-semicolon",
            "$(touch \(canary)-subshell)",
            "`touch \(canary)-backticks`",
            "line one\ntouch \(canary)-newline\nline three",
            "it's \"quoted\" \\ and 'single'",
            "| touch \(canary)-pipe && touch \(canary)-and",
            "--help",
            "*",
            "",
        ]
        let out = dir + "/argv.jsonl"
        let config = RemediationConfig {
            Policy(name: "restart", actions: [.exec(ExecSpec(program: RemediateFixtures.recordArgv,
                                                             arguments: [Template(stringLiteral: out), "{root_cause.entity}", "svc={root_cause.service}", "{incident.summary}"]))])
        }
        let incidents = hostile.enumerated().map { n, text in
            RemediateFixtures.incident(UInt64(n + 1), at: Int64(n) * 1000, cause: text, summary: "summary: " + text)
        }
        let d = try remediate(config, incidents)
        XCTAssertEqual(d.counted.executed, hostile.count, "\((try? AuditLog.read(path: dir + "/remediation/audit.jsonl").records) ?? [])")
        let runs = try recorded(out)
        XCTAssertEqual(runs.map(\.argv), hostile.map { [$0, "svc=" + $0, "summary: " + $0] })
        let files = try FileManager.default.contentsOfDirectory(atPath: dir)
        XCTAssertFalse(files.contains { $0.hasPrefix("pwned") }, "something was executed: \(files)")
    }

    /// Only allow-listed environment variables reach the program; secrets of the engine stay.
    func testTheProgramSeesOnlyTheAllowListedEnvironment() throws {
        let out = dir + "/argv.jsonl"
        let env = ["PATH": "/usr/bin", "KUBECONFIG": "/etc/kube", "VIGIL_SECRET": "hunter2", "HOME": "/root"]
        let r = try ExecRunner.run(.init(program: RemediateFixtures.recordArgv, arguments: [out], environment: ["KUBECONFIG", "UNSET_ONE"], timeoutMs: 10_000),
                                   environment: env)
        XCTAssertTrue(r.succeeded, "\(r)")
        let seen = try XCTUnwrap(try recorded(out).first).env
        XCTAssertEqual(seen["KUBECONFIG"], "/etc/kube")
        XCTAssertNil(seen["VIGIL_SECRET"])
        XCTAssertNil(seen["PATH"])
        XCTAssertNil(seen["HOME"])
    }

    func testAProgramPastItsTimeoutIsKilledWithWhatItStarted() throws {
        let started = Date()
        let r = try ExecRunner.run(.init(program: "/bin/sh", arguments: ["-c", "echo begun; sleep 30 & sleep 30"], environment: [], timeoutMs: 300))
        XCTAssertTrue(r.timedOut)
        XCTAssertFalse(r.succeeded)
        XCTAssertEqual(r.output, "begun\n")
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
    }

    /// A restart script that leaves a daemon behind has finished when it exits; waiting for
    /// the daemon to close its output would report a timeout and kill it.
    func testAProgramThatLeavesABackgroundProcessIsDoneWhenItExits() throws {
        let started = Date()
        let r = try ExecRunner.run(.init(program: "/bin/sh", arguments: ["-c", "sleep 3 & echo started"], environment: [], timeoutMs: 10_000))
        XCTAssertTrue(r.succeeded, "\(r)")
        XCTAssertEqual(r.output, "started\n")
        XCTAssertLessThan(Date().timeIntervalSince(started), 2.5)
    }

    func testExitStatusAndOutputAreCaptured() throws {
        let r = try ExecRunner.run(.init(program: "/bin/sh", arguments: ["-c", "echo out; echo err >&2; exit 3"], environment: [], timeoutMs: 10_000))
        XCTAssertEqual(r.status, 3)
        XCTAssertFalse(r.timedOut)
        XCTAssertEqual(r.output, "out\nerr\n")
        XCTAssertThrowsError(try ExecRunner.run(.init(program: "/nonexistent/program", arguments: [], environment: [], timeoutMs: 1000)))
    }

    /// An exec action found `started` without an outcome (the job was killed while it ran) is
    /// recorded as interrupted, never run again.
    func testAnExecActionThatMayHaveRunIsNotRunAgain() throws {
        let out = dir + "/argv.jsonl"
        let config = RemediationConfig {
            Policy(name: "restart", actions: [.exec(ExecSpec(program: RemediateFixtures.recordArgv, arguments: [Template(stringLiteral: out), "{incident.id}"]))])
        }
        // Decide and write the outbox without running it, then forge the crash: `started`
        // in the audit log, no outcome.
        let outbox = try Outbox(directory: dir + "/remediation/outbox")
        let env = StreamEnvironment(name: "remediate", parallelism: 1)
        let (stream, input) = env.manualSource(RemediationIncident.self)
        stream.remediate(config).writeToOutbox(outbox)
        let run = try env.embedded()
        input.send(RemediateFixtures.incident(1, at: 0))
        input.send(RemediateFixtures.incident(2, at: 1000))
        input.end()
        try run.runUntilIdle()
        let entries = try outbox.entries(ofReady: XCTUnwrap(outbox.ready().first))
        let audit = try AuditLog(path: dir + "/remediation/audit.jsonl")
        try audit.append(AuditRecord(event: .started, entry: entries[0], action: entries[0].actions[0], detail: "forged"), sync: true)

        let d = try ActionDispatcher(directory: dir + "/remediation")
        try d.runOnce()
        XCTAssertEqual(d.counted.interrupted, 1)
        XCTAssertEqual(d.counted.executed, 1)
        XCTAssertEqual(try recorded(out).map(\.argv), [["2"]])
    }

    /// An outbox file that cannot be read is set aside, and the actions behind it still run.
    func testAnUnreadableOutboxFileIsSetAsideAndTheRestRuns() throws {
        let out = dir + "/argv.jsonl"
        let config = RemediationConfig {
            Policy(name: "restart", actions: [.exec(ExecSpec(program: RemediateFixtures.recordArgv, arguments: [Template(stringLiteral: out), "{incident.id}"]))])
        }
        let outbox = try Outbox(directory: dir + "/remediation/outbox")
        try "{\"torn".write(toFile: outbox.directory + "/ready-0000000000000-1-0-bad", atomically: true, encoding: .utf8)
        let d = try remediate(config, [RemediateFixtures.incident(1, at: 0)])
        XCTAssertEqual(d.counted.executed, 1)
        XCTAssertTrue(FileManager.default.fileExists(atPath: outbox.directory + "/corrupt-0000000000000-1-0-bad"))
        XCTAssertEqual(outbox.ready(), [])
        XCTAssertEqual(try recorded(out).map(\.argv), [["1"]])
    }

    // MARK: webhooks

    /// What Alertmanager's `POST /api/v2/alerts` accepts: a list of postable alerts, each with
    /// string-to-string labels (required, with alertname), string annotations, RFC 3339
    /// startsAt/endsAt, an optional generatorURL, and nothing else.
    func assertPostableAlerts(_ body: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let parsed = try JSONSerialization.jsonObject(with: Data(body.utf8))
        let alerts = try XCTUnwrap(parsed as? [[String: Any]], "not a JSON array of objects: \(body)", file: file, line: line)
        XCTAssertFalse(alerts.isEmpty, file: file, line: line)
        let rfc3339 = ISO8601DateFormatter()
        rfc3339.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for a in alerts {
            XCTAssertTrue(Set(a.keys).isSubset(of: ["labels", "annotations", "startsAt", "endsAt", "generatorURL"]), "\(a.keys)", file: file, line: line)
            let labels = try XCTUnwrap(a["labels"] as? [String: String], "labels must map strings to strings", file: file, line: line)
            XCTAssertNotNil(labels["alertname"], file: file, line: line)
            for name in labels.keys {
                XCTAssertNotNil(name.range(of: "^[a-zA-Z_][a-zA-Z0-9_]*$", options: .regularExpression), "label name \(name)", file: file, line: line)
            }
            if let annotations = a["annotations"] { XCTAssertNotNil(annotations as? [String: String], file: file, line: line) }
            for key in ["startsAt", "endsAt"] {
                if let t = a[key] { XCTAssertNotNil((t as? String).flatMap(rfc3339.date(from:)), "\(key) \(t)", file: file, line: line) }
            }
        }
    }

    func testAlertmanagerWebhooksReachARealReceiverWithOneIdempotencyKeyAcrossRetries() throws {
        let receiver = try WebhookReceiver(directory: dir, failFirst: 2)
        setenv("VIGIL_TEST_WEBHOOK_TOKEN", "s3cret-token", 1)
        let config = RemediationConfig(serviceLabels: ["ts-order-service": ["team": "orders", "not a label": "x"]]) {
            Policy(name: "page", actions: [.webhook(WebhookSpec(url: receiver.url, body: .alertmanager,
                                                                headers: ["Authorization": "Bearer ${env:VIGIL_TEST_WEBHOOK_TOKEN}"],
                                                                timeoutMs: 5000, retries: 3, backoffMs: 1))])
        }
        let d = try remediate(config, [RemediateFixtures.incident(1, at: 1_764_000_000_000, signals: ["error_ratio"]),
                                       RemediateFixtures.incident(2, at: 1_764_000_060_000, change: "updated")])
        XCTAssertEqual(d.counted.executed, 2)
        let requests = receiver.requests
        XCTAssertEqual(requests.map(\.answered), [503, 503, 200, 200])
        let keys = requests.map { $0.headers["idempotency-key"] ?? "" }
        XCTAssertEqual(Set(keys.prefix(3)).count, 1, "retries carry the first attempt's key: \(keys)")
        XCTAssertNotEqual(keys[0], keys[3])
        for r in requests {
            XCTAssertEqual(r.path, "/api/v2/alerts")
            XCTAssertEqual(r.headers["content-type"], "application/json")
            XCTAssertEqual(r.headers["authorization"], "Bearer s3cret-token")
            try assertPostableAlerts(r.body)
        }
        let first = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(requests[0].body.utf8)) as? [[String: Any]])?.first)
        let labels = try XCTUnwrap(first["labels"] as? [String: String])
        XCTAssertEqual(labels["severity"], "critical")
        XCTAssertEqual(labels["root_cause"], "ts-order-service")
        XCTAssertEqual(labels["team"], "orders")
        XCTAssertNil(labels["not a label"])
        XCTAssertEqual(first["startsAt"] as? String, "2025-11-24T16:00:00.000Z")
        // The secret is in no file Vigil wrote.
        for file in ["remediation/audit.jsonl"] + (try FileManager.default.subpathsOfDirectory(atPath: dir + "/remediation/outbox")).map({ "remediation/outbox/" + $0 }) {
            let text = (try? String(contentsOfFile: dir + "/" + file, encoding: .utf8)) ?? ""
            XCTAssertFalse(text.contains("s3cret-token"), file)
        }
    }

    func testA4xxAnswerIsFinalAMissingSecretIsNotSentAndNoAnswerIsRetriedWithBackoff() throws {
        let receiver = try WebhookReceiver(directory: dir, answer: 422)
        let sender = WebhookSender(sleep: { _ in })
        let refused = sender.send(.init(url: receiver.url, body: "[]", headers: [:], timeoutMs: 2000, retries: 3, backoffMs: 1), idempotencyKey: "k0")
        XCTAssertFalse(refused.succeeded)
        XCTAssertEqual(refused.attempts, 1)
        XCTAssertEqual(receiver.requests.count, 1)
        let missing = sender.send(.init(url: receiver.url, body: "[]", headers: ["Authorization": "${env:VIGIL_NOT_SET_ANYWHERE}"],
                                        timeoutMs: 2000, retries: 3, backoffMs: 1), idempotencyKey: "k1")
        XCTAssertFalse(missing.succeeded)
        XCTAssertTrue(missing.detail.contains("VIGIL_NOT_SET_ANYWHERE is not set"), missing.detail)
        XCTAssertEqual(receiver.requests.count, 1)
        // Nothing listens on this port: every attempt fails, with the backoff between them.
        let sleeps = Sleeps()
        let unanswered = WebhookSender(sleep: { sleeps.add($0) }).send(.init(url: "http://127.0.0.1:9/", body: "[]", headers: [:], timeoutMs: 2000, retries: 3, backoffMs: 100),
                                                                 idempotencyKey: "k2")
        XCTAssertFalse(unanswered.succeeded)
        XCTAssertEqual(unanswered.attempts, 4)
        XCTAssertEqual(sleeps.values, [0.1, 0.2, 0.4])
    }

    /// A receiver that takes the request and never answers costs each attempt its timeout
    /// (and a little), never the dispatcher: a CI run once hung a whole job on one request.
    func testAReceiverThatNeverAnswersFailsTheAttemptsInsteadOfHangingTheDispatcher() throws {
        let receiver = try WebhookReceiver(directory: dir, hang: true)
        let started = Date()
        let o = WebhookSender(sleep: { _ in }).send(.init(url: receiver.url, body: "[]", headers: [:], timeoutMs: 500, retries: 1, backoffMs: 1),
                                                    idempotencyKey: "k")
        XCTAssertFalse(o.succeeded)
        XCTAssertEqual(o.attempts, 2)
        XCTAssertLessThan(Date().timeIntervalSince(started), 10, o.detail)
    }

    func testTheIncidentBodyCarriesTheIncidentAndTheDecision() throws {
        let receiver = try WebhookReceiver(directory: dir)
        let config = RemediationConfig { Policy(name: "notify", actions: [.webhook(WebhookSpec(url: receiver.url, body: .incident))]) }
        _ = try remediate(config, [RemediateFixtures.incident(9, at: 5000, summary: "ledger is slow")])
        let body = try XCTUnwrap(receiver.requests.first?.body)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        XCTAssertEqual(json["policy"] as? String, "notify")
        XCTAssertEqual(json["idempotency_key"] as? String, receiver.requests.first?.headers["idempotency-key"])
        let incident = try XCTUnwrap(json["incident"] as? [String: Any])
        XCTAssertEqual(incident["id"] as? Int, 9)
        XCTAssertEqual(incident["summary"] as? String, "ledger is slow")
        // The body reads back as the incident `vigil remediate` takes.
        let line = String(decoding: try JSONSerialization.data(withJSONObject: incident), as: UTF8.self)
        XCTAssertEqual(try RemediationIncident.decode(jsonLine: line).id, 9)
    }
}

final class Sleeps: @unchecked Sendable {
    private let lock = NSLock()
    private var all: [Double] = []
    func add(_ s: Double) { lock.lock(); all.append(s); lock.unlock() }
    var values: [Double] { lock.lock(); defer { lock.unlock() }; return all }
}
