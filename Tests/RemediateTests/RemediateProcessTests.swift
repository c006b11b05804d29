import Foundation
import VigilTestSupport
import XCTest
@testable import Remediate

/// `vigil remediate`, `vigil approve`, `vigil audit` and `vigil check` as real processes.
final class RemediateProcessTests: XCTestCase {
    var work = ""

    override func setUpWithError() throws {
        work = RemediateFixtures.temporaryDirectory("remediate-process")
        _ = try ChildProcesses.vigilExecutable()
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: work) }

    func writeIncidents(_ incidents: [RemediationIncident], to path: String) throws {
        try incidents.map { "{\"kind\":\"incident\"," + $0.jsonLine.dropFirst() }.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    func audit() throws -> [AuditRecord] { try AuditLog.read(path: work + "/rem/audit.jsonl").records }

    /// SIGKILL at random moments while actions run, at least ten times, then a run to the
    /// end: every incident's webhook arrived, all its attempts with one idempotency key, and
    /// no exec action ran twice.
    func testKilledWhileActingEveryWebhookArrivesWithOneKeyAndNoExecRunsTwice() throws {
        let receiver = try WebhookReceiver(directory: work)
        let argv = work + "/argv.jsonl"
        let policies = """
            policies:
              - name: page
                actions:
                  - webhook: {url: "\(receiver.url)", body: incident, timeout: 5s, retries: 5, backoff: 50ms}
              - name: restart
                actions:
                  - exec: {program: \(RemediateFixtures.recordArgv), args: ["\(argv)", "{incident.id}"], env: [VIGIL_TEST_EXEC_SLEEP_MS], timeout: 10s}
            """
        try policies.write(toFile: work + "/policies.yaml", atomically: true, encoding: .utf8)
        let count = 150
        try writeIncidents((1...count).map { RemediateFixtures.incident(UInt64($0), at: Int64($0) * 1000, cause: "svc-\($0 % 7)") },
                           to: work + "/incidents.jsonl")
        setenv("VIGIL_TEST_EXEC_SLEEP_MS", "40", 1)
        let arguments = ["remediate", "--policies", work + "/policies.yaml", "--dir", work + "/rem", "--state", work + "/state",
                         "--incidents", work + "/incidents.jsonl", "--checkpoint-interval-ms", "50"]

        let k = try ChildProcesses.killAtRandomMoments(maxKills: 20, delaysMs: 150...700) {
            try ChildProcesses.startVigil(arguments, log: work + "/stderr.log")
        }
        let (kills, delays) = (k.count, k.delays)
        XCTAssertNil(k.failedStatus, "a restarted run failed (kill delays, ms: \(delays))")
        let last = try ChildProcesses.startVigil(arguments, log: work + "/stderr.log")
        last.waitUntilExit()
        let log = (try? String(contentsOfFile: work + "/stderr.log", encoding: .utf8)) ?? ""
        XCTAssertEqual(last.terminationStatus, 0, "the final run failed:\n\(log.suffix(3000))")
        XCTAssertGreaterThanOrEqual(kills, 10, "the job finished after only \(kills) kills (delays, ms: \(delays)); finished early: \(k.finishedEarly)")
        // Programs the killed runs started may still be finishing: they belong to nobody now.
        let deadline = Date().addingTimeInterval(20)
        while Self.isRunning(commandLineContaining: RemediateFixtures.recordArgv), Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }

        // Webhooks: at least once, every attempt of an incident with the same key.
        var keysByIncident: [Int: Set<String>] = [:]
        var delivered: Set<Int> = []
        for r in receiver.requests {
            let body = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any])
            let id = try XCTUnwrap((body["incident"] as? [String: Any])?["id"] as? Int)
            keysByIncident[id, default: []].insert(r.headers["idempotency-key"] ?? "")
            if r.answered == 200 { delivered.insert(id) }
        }
        XCTAssertEqual(delivered, Set(1...count), "kills: \(kills), delays: \(delays)")
        XCTAssertEqual(keysByIncident.values.filter { $0.count != 1 }.count, 0, "\(keysByIncident.filter { $0.value.count != 1 })")
        XCTAssertEqual(Set(keysByIncident.values.compactMap(\.first)).count, count, "each incident has its own key")

        // Exec: never twice; each incident's action executed, or recorded as interrupted.
        let ran = try String(contentsOfFile: argv, encoding: .utf8).split(separator: "\n").map {
            try XCTUnwrap(((try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["argv"] as? [String])?.first)
        }
        XCTAssertEqual(ran.count, Set(ran).count, "an exec action ran twice: \(ran.sorted())")
        let records = try audit()
        let execOutcomes = records.filter { $0.policy == "restart" && [.executed, .interrupted, .failed].contains($0.event) }
        XCTAssertEqual(Set(execOutcomes.map(\.incident)), Set((1...count).map(UInt64.init)))
        XCTAssertEqual(execOutcomes.count, count, "one outcome per exec action: \(execOutcomes.map { "\($0.incident) \($0.event)" })")
        let executed = Set(execOutcomes.filter { $0.event == .executed }.map { String($0.incident) })
        XCTAssertTrue(executed.isSubset(of: Set(ran)), "audited as executed but never ran: \(executed.subtracting(ran))")
        XCTAssertEqual(execOutcomes.filter { $0.event == .failed }.count, 0)
        print("remediation crash test: \(kills) kills (delays ms \(delays)), \(receiver.requests.count) webhook requests for \(count) incidents, "
              + "\(executed.count) execs executed, \(count - executed.count) interrupted")
    }

    /// Whether a process whose command line contains `text` runs (from /proc: no procps needed).
    static func isRunning(commandLineContaining text: String) -> Bool {
        let pids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).filter { $0.allSatisfy(\.isNumber) }
        return pids.contains { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            return String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self).contains(text)
        }
    }

    /// The approval round trip a user goes through: the action waits, `vigil approve --list`
    /// shows it, `vigil approve ID` lets it run on the job's next start, `vigil audit` tells it.
    func testAnActionWaitsForVigilApproveAndTheAuditLogTellsTheStory() throws {
        let argv = work + "/argv.jsonl"
        try """
            policies:
              - name: restart-db
                match: {root_cause_kind: peer}
                approval: {timeout: 10m}
                actions:
                  - exec: {program: \(RemediateFixtures.recordArgv), args: ["\(argv)", "restart", "{root_cause.entity}"]}
              - name: watch
                dry_run: true
                actions:
                  - exec: {program: /bin/false}
            """.write(toFile: work + "/policies.yaml", atomically: true, encoding: .utf8)
        try writeIncidents([RemediateFixtures.incident(1, at: 1000, cause: "mysql", kind: "peer")], to: work + "/incidents.jsonl")
        try (try String(contentsOfFile: work + "/incidents.jsonl", encoding: .utf8) + "\n{\"not\": \"an incident\"}\n")
            .write(toFile: work + "/incidents.jsonl", atomically: true, encoding: .utf8)
        let arguments = ["remediate", "--policies", work + "/policies.yaml", "--dir", work + "/rem", "--state", work + "/state",
                         "--incidents", work + "/incidents.jsonl"]
        var (status, _, errors) = try ChildProcesses.runVigilCapturingOutput(arguments)
        XCTAssertEqual(status, 0, errors)
        XCTAssertFalse(FileManager.default.fileExists(atPath: argv), "ran before approval")
        let deadLetters = try FileManager.default.contentsOfDirectory(atPath: work + "/rem/dead-letters").filter { $0.hasPrefix("part-") }
        let dead = try deadLetters.map { try String(contentsOfFile: work + "/rem/dead-letters/" + $0, encoding: .utf8) }.joined()
        XCTAssertTrue(dead.contains("not an incident: no 'change' field"), dead)

        let (listStatus, list, _) = try ChildProcesses.runVigilCapturingOutput(["approve", "--list", "--dir", work + "/rem"])
        XCTAssertEqual(listStatus, 0)
        let id = try XCTUnwrap(list.split(separator: " ").first.map(String.init), list)
        XCTAssertTrue(list.contains("policy restart-db, incident 1"), list)
        XCTAssertTrue(list.contains("restart mysql"), list)
        XCTAssertEqual(try ChildProcesses.runVigil(["approve", "no-such-id", "--dir", work + "/rem"]).status, 1)
        let (approveStatus, approved, approveErrors) = try ChildProcesses.runVigilCapturingOutput(["approve", id, "--dir", work + "/rem", "--by", "alice"])
        XCTAssertEqual(approveStatus, 0, approveErrors)
        XCTAssertTrue(approved.contains("approved \(id)"), approved)

        (status, _, errors) = try ChildProcesses.runVigilCapturingOutput(arguments)
        XCTAssertEqual(status, 0, errors)
        XCTAssertEqual(try String(contentsOfFile: argv, encoding: .utf8).components(separatedBy: "\"argv\": [\"restart\", \"mysql\"]").count, 2)

        let (_, story, _) = try ChildProcesses.runVigilCapturingOutput(["audit", "--dir", work + "/rem", "--policy", "restart-db"])
        let events = story.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true)[1] }
        XCTAssertEqual(events, ["awaiting_approval", "approved", "started", "executed"], story)
        XCTAssertTrue(story.contains("approved by alice"), story)
        let (_, dry, _) = try ChildProcesses.runVigilCapturingOutput(["audit", "--dir", work + "/rem", "--event", "dry_run", "--json"])
        XCTAssertTrue(dry.contains("\"policy\":\"watch\""), dry)
        XCTAssertTrue(dry.contains("would exec /bin/false"), dry)
        XCTAssertNotEqual(try ChildProcesses.runVigil(["audit", "--dir", work + "/rem", "--event", "exploded"]).status, 0)
    }

    /// Incidents from a topic, Kafka actions to another, through `vigil broker` (the mock
    /// cluster over TCP), read back with kcat: a message per incident, carrying its
    /// idempotency key as a header; a message that is no incident goes to the dead letters.
    func testIncidentsFromATopicAndKafkaActionsToAnother() throws {
        let (broker, brokers) = try ChildProcesses.startBroker(topics: ["vigil_incidents:1", "vigil_remediations:1", "vigil_dead_letters:1"], work: work)
        defer { broker.terminate(); broker.waitUntilExit() }
        try writeIncidents((1...5).map { RemediateFixtures.incident(UInt64($0), at: Int64($0) * 60_000, signals: ["error_ratio"]) }, to: work + "/incidents.jsonl")
        try (try String(contentsOfFile: work + "/incidents.jsonl", encoding: .utf8) + "\nthis is not an incident\n")
            .write(toFile: work + "/incidents.jsonl", atomically: true, encoding: .utf8)
        try ChildProcesses.run("kcat", ["-P", "-b", brokers, "-t", "vigil_incidents", "-l", work + "/incidents.jsonl"])
        try """
            policies:
              - name: publish
                match: {severity: critical}
                actions:
                  - kafka: {topic: vigil_remediations, key: "incident-{incident.id}"}
            """.write(toFile: work + "/policies.yaml", atomically: true, encoding: .utf8)
        let (status, _, errors) = try ChildProcesses.runVigilCapturingOutput(
            ["remediate", "--policies", work + "/policies.yaml", "--dir", work + "/rem", "--state", work + "/state",
             "--brokers", brokers, "--topic", "vigil_incidents", "--stop-at-end", "--checkpoint-interval-ms", "100"])
        XCTAssertEqual(status, 0, errors)
        let out = try ChildProcesses.run("kcat", ["-C", "-b", brokers, "-t", "vigil_remediations", "-e", "-q", "-f", "%k\t%h\t%s\n"])
        let messages = out.split(separator: "\n").map { $0.split(separator: "\t", maxSplits: 2).map(String.init) }
        XCTAssertEqual(messages.map { $0[0] }, (1...5).map { "incident-\($0)" }, out)
        for m in messages {
            XCTAssertTrue(m[1].hasPrefix("Idempotency-Key=vigil-"), m[1])
            let body = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(m[2].utf8)) as? [String: Any])
            XCTAssertEqual(body["policy"] as? String, "publish")
            XCTAssertEqual("Idempotency-Key=" + (body["idempotency_key"] as? String ?? ""), m[1])
        }
        let dead = try ChildProcesses.run("kcat", ["-C", "-b", brokers, "-t", "vigil_dead_letters", "-e", "-q", "-f", "%s\n"])
        XCTAssertTrue(dead.contains("this is not an incident"), dead)
        XCTAssertEqual(try audit().filter { $0.event == .executed && $0.kind == "kafka" }.count, 5)
    }

    /// `vigil savepoint` on the running job, then SIGTERM: a final checkpoint releases the actions it
    /// decided (the periodic one is a minute away) and commits the offsets, so a restart
    /// neither loses nor repeats anything.
    func testSIGTERMTakesAFinalCheckpointThatReleasesActionsAndCommitsOffsets() throws {
        let (broker, brokers) = try ChildProcesses.startBroker(topics: ["vigil_incidents:1", "vigil_dead_letters:1"], work: work)
        defer { broker.terminate(); broker.waitUntilExit() }
        let argv = work + "/argv.jsonl"
        try """
            policies:
              - name: restart
                actions:
                  - exec: {program: \(RemediateFixtures.recordArgv), args: ["\(argv)", "{incident.id}"]}
            """.write(toFile: work + "/policies.yaml", atomically: true, encoding: .utf8)
        // Three incidents, then a message that is none: its dead letter, logged, says all three were read.
        try writeIncidents((1...3).map { RemediateFixtures.incident(UInt64($0), at: Int64($0) * 1000) }, to: work + "/incidents.jsonl")
        try (try String(contentsOfFile: work + "/incidents.jsonl", encoding: .utf8) + "\nnot an incident\n")
            .write(toFile: work + "/incidents.jsonl", atomically: true, encoding: .utf8)
        try ChildProcesses.run("kcat", ["-P", "-b", brokers, "-t", "vigil_incidents", "-l", work + "/incidents.jsonl"])
        let arguments = ["remediate", "--policies", work + "/policies.yaml", "--dir", work + "/rem", "--state", work + "/state",
                         "--brokers", brokers, "--topic", "vigil_incidents", "--checkpoint-interval-ms", "60000",
                         // The mock cluster holds a rejoining group for a session timeout.
                         "--consumer-property", "session.timeout.ms=3000", "--consumer-property", "heartbeat.interval.ms=300"]
        let log = work + "/remediate.log"
        let job = try ChildProcesses.startVigil(arguments, log: log)
        let deadline = Date().addingTimeInterval(60)
        func logText() -> String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        while !logText().contains("dead letter"), job.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        XCTAssertTrue(logText().contains("dead letter"), logText())
        XCTAssertFalse(FileManager.default.fileExists(atPath: argv), "nothing runs before a checkpoint")

        // A savepoint of the running job, asked for from another process.
        let (spStatus, spOut, spErr) = try ChildProcesses.runVigilCapturingOutput(["savepoint", "--state", work + "/state", "--name", "before-stop"])
        XCTAssertEqual(spStatus, 0, spErr + logText())
        XCTAssertTrue(spOut.contains("savepoint before-stop: "), spOut)
        let (_, listed, _) = try ChildProcesses.runVigilCapturingOutput(["checkpoints", "list", "--state", work + "/state"])
        XCTAssertTrue(listed.split(separator: "\n").contains { $0.contains("savepoint before-stop") && $0.contains("valid") }, listed)

        kill(job.processIdentifier, SIGTERM)
        job.waitUntilExit()
        XCTAssertEqual(job.terminationStatus, 0, logText())
        XCTAssertTrue(logText().contains("remediate: SIGTERM: taking a final checkpoint"), logText())
        XCTAssertEqual(try String(contentsOfFile: argv, encoding: .utf8).split(separator: "\n").count, 3, "the final checkpoint released all three")

        // Started again: the offsets were committed, nothing is read or run twice.
        let (status, _, errors) = try ChildProcesses.runVigilCapturingOutput(arguments.filter { $0 != "60000" && $0 != "--checkpoint-interval-ms" } + ["--stop-at-end"])
        XCTAssertEqual(status, 0, errors)
        XCTAssertEqual(try String(contentsOfFile: argv, encoding: .utf8).split(separator: "\n").count, 3)
        XCTAssertEqual(try audit().filter { $0.event == .executed }.count, 3)
        // --from-savepoint: an unknown name is refused with the ones there are; the savepoint is
        // older than the job's newest checkpoint, so a restart with the flag restores the newest
        // (going back would repeat what ran since); on a new state directory it starts from the
        // savepoint, and the audit log still keeps every action from running twice.
        let unknown = try ChildProcesses.runVigil(arguments + ["--stop-at-end", "--from-savepoint", "nosuch"])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.stderr.contains("no savepoint 'nosuch' under \(work)/state/savepoints (it has: before-stop)"), unknown.stderr)
        let again = try ChildProcesses.runVigil(arguments + ["--stop-at-end", "--from-savepoint", "before-stop"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("is newer than savepoint before-stop: restoring it"), again.stderr)
        let savepointPath = work + "/state/savepoints/before-stop"
        let fresh = try ChildProcesses.runVigil(arguments.map { $0 == work + "/state" ? work + "/state2" : $0 } + ["--stop-at-end", "--from-savepoint", savepointPath])
        XCTAssertEqual(fresh.status, 0, fresh.stderr)
        XCTAssertTrue(fresh.stderr.contains("starting from savepoint \(savepointPath)"), fresh.stderr)
        XCTAssertEqual(try String(contentsOfFile: argv, encoding: .utf8).split(separator: "\n").count, 3)
        XCTAssertEqual(try audit().filter { $0.event == .executed }.count, 3)

        // No job runs on the state any more: a savepoint request says so.
        let none = try ChildProcesses.runVigil(["savepoint", "--state", work + "/state"])
        XCTAssertNotEqual(none.status, 0)
        XCTAssertTrue(none.stderr.contains("no running job"), none.stderr)
    }

    func testABadPolicyFileIsRejectedAtStartWithItsLines() throws {
        try "policies:\n  - name: a\n    cooldown: soon\n    actions:\n      - exec: {program: kubectl}\n".write(toFile: work + "/bad.yaml", atomically: true, encoding: .utf8)
        let (status, errors) = try ChildProcesses.runVigil(["check", "--policies", work + "/bad.yaml"])
        XCTAssertEqual(status, 1)
        XCTAssertTrue(errors.contains("\(work)/bad.yaml:3: cooldown: 'soon' is not a duration"), errors)
        XCTAssertTrue(errors.contains("\(work)/bad.yaml:5: exec.program 'kubectl' must be an absolute path"), errors)
        try "[]".write(toFile: work + "/incidents.jsonl", atomically: true, encoding: .utf8)
        let run = try ChildProcesses.runVigil(["remediate", "--policies", work + "/bad.yaml", "--dir", work + "/rem", "--state", work + "/state",
                                               "--incidents", work + "/incidents.jsonl"])
        XCTAssertEqual(run.status, 2)
        XCTAssertTrue(run.stderr.contains("bad.yaml:3:"), run.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: work + "/state"), "nothing ran")
        try "policies:\n  - name: ok\n    actions: [{exec: {program: /bin/true}}]\n".write(toFile: work + "/good.yaml", atomically: true, encoding: .utf8)
        let (goodStatus, good, _) = try ChildProcesses.runVigilCapturingOutput(["check", "--policies", work + "/good.yaml"])
        XCTAssertEqual(goodStatus, 0)
        XCTAssertTrue(good.contains("1 policies, 1 actions: valid"), good)
    }
}
