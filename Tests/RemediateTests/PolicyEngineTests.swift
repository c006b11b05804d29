import Stream
import XCTest
@testable import Remediate

final class PolicyEngineTests: XCTestCase {
    /// 10,000 incidents, one a second, causes rotating over ten services, every 100th one a
    /// database (`mysql`, a peer), and every 7th reported twice (opened, then updated).
    func burst() -> [RemediationIncident] {
        var out: [RemediationIncident] = []
        for i in 0..<10_000 {
            let peer = i % 100 == 55
            let base = RemediateFixtures.incident(UInt64(i + 1), at: Int64(i) * 1000, cause: peer ? "mysql" : "svc-\(i % 10)", kind: peer ? "peer" : "service")
            out.append(base)
            if i % 7 == 0 { var u = base; u.change = "updated"; out.append(u) }
        }
        return out
    }

    func counter(_ name: String) -> ActionSpec { .kafka(KafkaSpec(topic: name)) }

    var burstConfig: RemediationConfig {
        RemediationConfig {
            // One firing per service per 100 s.
            Policy(name: "dedup", match: IncidentMatch(rootCauseKinds: ["service"]), actions: [counter("dedup")])
                .deduplicated(by: "{root_cause.entity}", withinMinutes: 0)
                .with { $0.dedupWindowMs = 100_000 }
            // At most one firing a minute.
            Policy(name: "cooldown", match: IncidentMatch(rootCauseKinds: ["service"]), actions: [counter("cooldown")]).cooldown(minutes: 1)
            // At most five firings in any minute.
            Policy(name: "rate", match: IncidentMatch(rootCauseKinds: ["service"]), actions: [counter("rate")]).rateLimited(5, perMinutes: 1)
            Policy(name: "approve", match: IncidentMatch(rootCauseKinds: ["peer"]),
                   actions: [.exec(ExecSpec(program: "/bin/true"))]).requiringApproval(minutes: 5)
            Policy(name: "dry", match: IncidentMatch(rootCauseKinds: ["peer"]), actions: [counter("dry")]).dryRunOnly()
        }
    }

    func testABurstOfTenThousandIncidentsIsLimitedAsConfigured() throws {
        let incidents = burst()
        let h = StreamTestHarness(of: RemediationIncident.self) { $0.remediate(self.burstConfig) }
        for i in incidents { try h.send(i) }
        try h.end()
        let decisions = h.output
        func count(_ policy: String, _ outcome: OutboxEntry.Outcome? = nil) -> Int {
            decisions.filter { $0.policy == policy && (outcome == nil || $0.outcome == outcome) }.count
        }
        let serviceReports = incidents.filter { $0.rootCause?.entityKind == "service" }.count
        let peerReports = incidents.count - serviceReports
        XCTAssertEqual(serviceReports, 9900 + 1415)
        XCTAssertEqual(peerReports, 100 + 14)

        // Ten services, each seen every 10 s for 10,000 s, one firing per 100 s: 100 each.
        XCTAssertEqual(count("dedup", .scheduled), 1000)
        XCTAssertEqual(count("dedup", .suppressedDedup), serviceReports - 1000)
        // One firing per 60 s over 10,000 s: at 0, 60, …, 9960.
        XCTAssertEqual(count("cooldown", .scheduled), 167)
        // An update of an incident that fired is a duplicate; the rest wait for the cooldown.
        let cooldownFiredUpdates = incidents.filter { $0.change == "updated" && $0.rootCause?.entityKind == "service" && ($0.openedMs / 1000) % 60 == 0 }.count
        XCTAssertEqual(count("cooldown", .suppressedDedup), cooldownFiredUpdates)
        XCTAssertEqual(count("cooldown", .suppressedCooldown), serviceReports - 167 - cooldownFiredUpdates)
        // Five in any 60 s: the seconds 0…4 of every minute, 167 minutes begun.
        XCTAssertEqual(count("rate", .scheduled), 167 * 5)
        XCTAssertEqual(count("rate", .suppressedRateLimit) + count("rate", .suppressedDedup), serviceReports - 835)
        XCTAssertEqual(count("approve", .awaitingApproval), 100)
        XCTAssertEqual(count("approve", .suppressedDedup), 14)
        XCTAssertEqual(count("dry", .dryRun), 100)
        XCTAssertEqual(decisions.count, serviceReports * 3 + peerReports * 2)
        // Decision ids are unique, and so are the idempotency keys of planned actions.
        XCTAssertEqual(Set(decisions.map(\.id)).count, decisions.count)
        let keys = decisions.flatMap { $0.actions.map(\.idempotencyKey) }
        XCTAssertEqual(Set(keys).count, keys.count)
    }

    /// The same burst through the outbox and the dispatcher: every decision audited once, the
    /// counted actions produced once each, approvals approved, rejected and expired.
    func testTheDispatcherAuditsEveryDecisionAndRunsEachActionOnce() throws {
        let dir = RemediateFixtures.temporaryDirectory("dispatch")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let produced = Produced()
        let clock = ManualClock()
        let dispatcher = try ActionDispatcher(directory: dir, kafka: { k, key in produced.add(k.topic, key) }, clock: clock.now)
        let env = StreamEnvironment(name: "remediate", parallelism: 1)
        let (incidents, input) = env.manualSource(RemediationIncident.self)
        incidents.remediate(burstConfig, dispatcher: dispatcher)
        let run = try env.embedded()
        for i in burst() { input.send(i) }
        input.end()
        try run.runUntilIdle()
        try dispatcher.runOnce()

        XCTAssertEqual(produced.count("dedup"), 1000)
        XCTAssertEqual(produced.count("cooldown"), 167)
        XCTAssertEqual(produced.count("rate"), 835)
        XCTAssertEqual(produced.count("dry"), 0, "dry-run policies run nothing")
        XCTAssertEqual(produced.distinctKeys, produced.total)
        XCTAssertEqual(dispatcher.counted.dryRun, 100)
        XCTAssertEqual(dispatcher.counted.awaitingApproval, 100)

        let pending = dispatcher.approvals.pending().map(\.entry.id)
        XCTAssertEqual(pending.count, 100)
        for id in pending.prefix(30) { _ = try dispatcher.approvals.decide(id, approved: true, by: "alice", nowMs: clock.ms) }
        for id in pending.dropFirst(30).prefix(10) { _ = try dispatcher.approvals.decide(id, approved: false, by: "bob", nowMs: clock.ms) }
        XCTAssertThrowsError(try dispatcher.approvals.decide(pending[0], approved: true, by: "carol", nowMs: clock.ms), "decided twice")
        try dispatcher.runOnce()
        XCTAssertEqual(dispatcher.counted.approved, 30)
        XCTAssertEqual(dispatcher.counted.rejected, 10)
        XCTAssertEqual(dispatcher.counted.executed, 1000 + 167 + 835 + 30)
        XCTAssertEqual(dispatcher.approvals.pending().count, 60)

        // Nobody decides the rest within 5 minutes: they expire, and a late approval is refused.
        clock.advance(seconds: 301)
        XCTAssertThrowsError(try dispatcher.approvals.decide(pending[99], approved: true, by: "dave", nowMs: clock.ms))
        try dispatcher.runOnce()
        XCTAssertEqual(dispatcher.counted.expired, 60)
        XCTAssertEqual(dispatcher.approvals.pending().count, 0)

        let (records, unreadable) = try AuditLog.read(path: dir + "/audit.jsonl")
        XCTAssertEqual(unreadable, 0)
        func audited(_ e: AuditRecord.Event) -> Int { records.filter { $0.event == e }.count }
        XCTAssertEqual(audited(.executed), 1000 + 167 + 835 + 30)
        XCTAssertEqual(audited(.started), 30, "exec actions record their start before they run")
        XCTAssertEqual(audited(.approved), 30)
        XCTAssertEqual(audited(.rejected), 10)
        XCTAssertEqual(audited(.expired), 60)
        XCTAssertEqual(audited(.dryRun), 100)
        XCTAssertEqual(audited(.suppressed), records.count - audited(.executed) - audited(.started) - 30 - 10 - 60 - 100 - 100)
        XCTAssertTrue(dispatcher.outbox.ready().isEmpty)

        // A second dispatcher over the same directory finds nothing left to do.
        let again = try ActionDispatcher(directory: dir, kafka: { k, key in produced.add(k.topic, key) }, clock: clock.now)
        try again.runOnce()
        XCTAssertEqual(again.counted, ActionDispatcher.Counts())
        XCTAssertEqual(produced.total, 1000 + 167 + 835)
    }

    /// Checkpoint in the middle of the burst, lose what follows, restore: the decisions are
    /// those of an uninterrupted run, ids and idempotency keys included.
    func testARestoredEngineDecidesExactlyWhatAnUninterruptedOneDoes() throws {
        let base = RemediateFixtures.temporaryDirectory("engine-restore")
        defer { try? FileManager.default.removeItem(atPath: base) }
        let all = Array(burst().prefix(3000))
        func job(_ dir: String) -> (StreamEnvironment, ManualInput<RemediationIncident>, CollectedRecords<OutboxEntry>) {
            let env = StreamEnvironment(name: "remediate", parallelism: 1)
            env.checkpointing = CheckpointConfig(directory: dir, interval: nil)
            let (incidents, input) = env.manualSource(RemediationIncident.self)
            return (env, input, incidents.remediate(burstConfig).collect())
        }
        let (env1, input1, out1) = job(base + "/job")
        let run1 = try env1.embedded()
        for i in all[..<1500] { input1.send(i) }
        try run1.runUntilIdle()
        try run1.triggerCheckpoint()
        let before = out1.values
        for i in all[1500..<2000] { input1.send(i) }
        try run1.runUntilIdle()
        let lost = Array(out1.values[before.count...])

        let (env2, input2, out2) = job(base + "/job")
        let run2 = try env2.embedded()
        for i in all[1500...] { input2.send(i) }
        input2.end()
        try run2.runUntilIdle()
        XCTAssertEqual(Array(out2.values.prefix(lost.count)), lost, "the replay decides what the lost run decided")

        // The same decisions as one run over everything, but for the epoch in the ids.
        let (env3, input3, out3) = job(base + "/reference")
        let run3 = try env3.embedded()
        for i in all { input3.send(i) }
        input3.end()
        try run3.runUntilIdle()
        func shape(_ e: OutboxEntry) -> String { "\(e.policy) \(e.incidentID) \(e.change) \(e.outcome.rawValue) \(e.actions.count)" }
        XCTAssertEqual((before + out2.values).map(shape), out3.values.map(shape))
    }
}

extension Policy {
    func with(_ change: (inout Policy) -> Void) -> Policy { var p = self; change(&p); return p }
}

/// Kafka actions counted instead of produced.
final class Produced: @unchecked Sendable {
    private let lock = NSLock()
    private var byTopic: [String: Int] = [:]
    private var keys: Set<String> = []
    private var all = 0
    func add(_ topic: String, _ key: String) { lock.lock(); byTopic[topic, default: 0] += 1; keys.insert(key); all += 1; lock.unlock() }
    func count(_ topic: String) -> Int { lock.lock(); defer { lock.unlock() }; return byTopic[topic] ?? 0 }
    var total: Int { lock.lock(); defer { lock.unlock() }; return all }
    var distinctKeys: Int { lock.lock(); defer { lock.unlock() }; return keys.count }
}

/// A wall clock the test moves.
final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current = Date(timeIntervalSince1970: 1_700_000_000)
    var now: @Sendable () -> Date { { [self] in lock.lock(); defer { lock.unlock() }; return current } }
    var ms: Int64 { Int64(now().timeIntervalSince1970 * 1000) }
    func advance(seconds: Double) { lock.lock(); current += seconds; lock.unlock() }
}
