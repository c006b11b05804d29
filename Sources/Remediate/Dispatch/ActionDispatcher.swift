import Foundation
import Logging

/// Executes what the outbox holds, once its checkpoint is complete, on a thread of its own
/// (a slow webhook must not stall the dataflow). It keeps no state of its own: the outbox
/// says what is to be done and the audit log what was, so a restarted dispatcher picks up
/// exactly where a killed one stopped:
///
/// - webhooks and Kafka messages are at least once: one that may have gone out is sent again
///   with the same idempotency key, for the receiver to drop;
/// - exec actions are at most once: `started` is fsynced to the audit log before the program
///   runs, and a restart that finds `started` without an outcome records `interrupted`
///   instead of running it again (a restart script run twice can do more harm than one not
///   run, and the audit log says which happened).
///
/// A layout of one remediation directory:
///
///     outbox/      decisions (see `Outbox`)
///     audit.jsonl  the audit log
///     approvals/   requests and decisions (see `ApprovalStore`)
public final class ActionDispatcher: @unchecked Sendable {
    // @unchecked: everything below `lock` is touched by the dispatcher thread, or under it.
    public struct Counts: Sendable, Equatable {
        public var executed = 0, failed = 0, interrupted = 0, suppressed = 0, dryRun = 0
        public var awaitingApproval = 0, approved = 0, rejected = 0, expired = 0
    }

    public let outbox: Outbox
    public let audit: AuditLog
    public let approvals: ApprovalStore
    let kafka: (@Sendable (PlannedAction.Kafka, String) throws -> Void)?
    let webhooks: WebhookSender
    let clock: @Sendable () -> Date
    let logger: Logger
    /// Told of every audit record as it is written (e.g. to print it for a person watching).
    let onRecord: (@Sendable (AuditRecord) -> Void)?

    private let lock = NSCondition()
    private var wakeRequested = false
    private var stopping = false
    private var thread: Thread?
    private var idle = true
    private var lastError: Error?
    /// What the audit log says of each decision and action still in play, by "decision#action"
    /// (action -1: the decision itself).
    private var progress: [String: Set<AuditRecord.Event>] = [:]
    private var counts = Counts()

    /// `kafka` produces a Kafka action's message (topic, key, value via the action) with the
    /// idempotency key; without it, Kafka actions fail with a clear reason.
    public init(directory: String, kafka: (@Sendable (PlannedAction.Kafka, String) throws -> Void)? = nil,
                logger: Logger = Logger(label: "vigil.remediate"), clock: @escaping @Sendable () -> Date = { Date() },
                retrySleep: @escaping @Sendable (Double) -> Void = { Thread.sleep(forTimeInterval: $0) },
                onRecord: (@Sendable (AuditRecord) -> Void)? = nil) throws {
        outbox = try Outbox(directory: directory + "/outbox")
        audit = try AuditLog(path: directory + "/audit.jsonl")
        approvals = try ApprovalStore(directory: directory + "/approvals")
        self.kafka = kafka
        self.webhooks = WebhookSender(sleep: retrySleep)
        self.clock = clock
        self.logger = logger
        self.onRecord = onRecord
        try loadProgress()
    }

    /// Reads back what the audit log says of the decisions still in the outbox or waiting for
    /// approval (the rest are finished and need no memory).
    private func loadProgress() throws {
        var live: Set<String> = Set(approvals.pending().map(\.entry.id))
        // (An unreadable file is set aside by the first pass.)
        for name in outbox.ready() { for e in (try? outbox.entries(ofReady: name)) ?? [] { live.insert(e.id) } }
        guard !live.isEmpty else { return }
        let (records, unreadable) = try AuditLog.read(path: audit.path)
        if unreadable > 0 { logger.warning("audit log \(audit.path): \(unreadable) unreadable lines skipped (torn by a crash?)") }
        for r in records where live.contains(r.decision) { progress["\(r.decision)#\(r.action ?? -1)", default: []].insert(r.event) }
    }

    // MARK: running

    public func start() {
        let t = Thread { [self] in loop() }
        t.name = "vigil-remediate"
        lock.lock(); thread = t; lock.unlock()
        t.start()
    }

    /// Asks for a pass now (a file became ready, or an approval was given).
    public func wake() {
        lock.lock(); wakeRequested = true; lock.signal(); lock.unlock()
    }

    public func stop() {
        lock.lock(); stopping = true; lock.signal(); lock.unlock()
    }

    /// Waits until the outbox has nothing ready and the thread is between passes; approvals
    /// may still be waiting. False at the timeout. Throws what the last pass failed with.
    public func drain(timeout: TimeInterval) throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        wake()
        while Date() < deadline {
            lock.lock()
            let quiet = idle && !wakeRequested
            let error = lastError
            lock.unlock()
            if let error { throw error }
            if quiet && outbox.ready().isEmpty { return true }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return false
    }

    public var counted: Counts { lock.lock(); defer { lock.unlock() }; return counts }

    private func loop() {
        while true {
            lock.lock()
            while !wakeRequested && !stopping { if !lock.wait(until: Date().addingTimeInterval(0.25)) { break } }
            if stopping { lock.unlock(); return }
            wakeRequested = false
            idle = false
            lock.unlock()
            do {
                try runOnce()
                lock.lock(); lastError = nil; lock.unlock()
            } catch {
                logger.error("remediation dispatcher: \(error); retrying in 1 s")
                lock.lock(); lastError = error; lock.unlock()
                Thread.sleep(forTimeInterval: 1)
            }
            lock.lock(); idle = true; lock.unlock()
        }
    }

    /// One pass: every ready outbox file, then every approval request. The thread calls it;
    /// tests call it directly for a deterministic pass.
    public func runOnce() throws {
        for name in outbox.ready() {
            let entries: [OutboxEntry]
            do { entries = try outbox.entries(ofReady: name) } catch let error as Outbox.Unreadable {
                // Written with fsync and rename, so only a damaged disk gets here. Set it aside,
                // loudly, rather than stop every action behind it.
                try outbox.setAside(name)
                logger.error("remediation outbox file ready-\(name) cannot be read (\(error)); moved to corrupt-\(name), its actions are not run")
                continue
            }
            for e in entries { try handle(e) }
            try audit.sync()
            try outbox.markDone(name)
            lock.lock()
            for e in entries where e.outcome != .awaitingApproval { for i in -1..<e.actions.count { progress["\(e.id)#\(i)"] = nil } }
            lock.unlock()
        }
        try reviewApprovals()
    }

    // MARK: decisions

    private func handle(_ e: OutboxEntry) throws {
        switch e.outcome {
        case .suppressedDedup, .suppressedCooldown, .suppressedRateLimit:
            try once(.suppressed, e, nil, "\(e.outcome.rawValue.dropFirst("suppressed_".count)): \(e.reason)") { $0.suppressed += 1 }
        case .dryRun:
            for a in e.actions { try once(.dryRun, e, a, "would \(a.summary)") { $0.dryRun += 1 } }
        case .awaitingApproval:
            try approvals.request(e, nowMs: nowMs())
            let expires = e.approvalTimeoutMs.map(PolicyEngine.duration) ?? "?"
            try once(.awaitingApproval, e, nil, "\(e.actions.map(\.summary).joined(separator: "; ")); approve within \(expires) with: vigil approve \(e.id)") {
                $0.awaitingApproval += 1
            }
        case .scheduled:
            for a in e.actions { try run(a, of: e) }
        }
    }

    private func reviewApprovals() throws {
        let now = nowMs()
        for r in approvals.pending() {
            let e = r.entry
            if let d = approvals.decision(e.id) {
                if d.approved {
                    try once(.approved, e, nil, "approved by \(d.by)") { $0.approved += 1 }
                    for a in e.actions { try run(a, of: e) }
                } else {
                    try once(.rejected, e, nil, "rejected by \(d.by)") { $0.rejected += 1 }
                }
            } else if now >= r.expiresAtMs {
                try once(.expired, e, nil, "nobody approved it within \(PolicyEngine.duration(r.expiresAtMs - r.requestedAtMs))") { $0.expired += 1 }
            } else {
                continue
            }
            try audit.sync()
            try approvals.close(e.id)
            lock.lock()
            for i in -1..<e.actions.count { progress["\(e.id)#\(i)"] = nil }
            lock.unlock()
        }
    }

    // MARK: actions

    private func run(_ a: PlannedAction, of e: OutboxEntry) throws {
        let seen = events(e, a.index)
        if seen.contains(where: \.endsAction) { return }
        if let x = a.exec {
            if seen.contains(.started) {
                try record(.interrupted, e, a, "a previous run was stopped while this ran; not run again (exec runs at most once)") { $0.interrupted += 1 }
                return
            }
            try record(.started, e, a, a.summary) { _ in }
            let detail: String
            let ok: Bool
            do {
                let r = try ExecRunner.run(x)
                ok = r.succeeded
                detail = (r.timedOut ? "killed after \(PolicyEngine.duration(Int64(x.timeoutMs))) timeout" : "exit \(r.status)")
                    + (r.output.isEmpty ? "" : "; output: \(r.output)")
            } catch {
                ok = false
                detail = "\(error)"
            }
            try record(ok ? .executed : .failed, e, a, detail) { ok ? ($0.executed += 1) : ($0.failed += 1) }
        } else if let w = a.webhook {
            let o = webhooks.send(w, idempotencyKey: a.idempotencyKey)
            try record(o.succeeded ? .executed : .failed, e, a, "POST \(w.url): \(o.detail)") { o.succeeded ? ($0.executed += 1) : ($0.failed += 1) }
        } else if let k = a.kafka {
            var detail = "produced to \(k.topic)"
            var ok = true
            if let kafka {
                do { try kafka(k, a.idempotencyKey) } catch { ok = false; detail = "not produced to \(k.topic): \(error)" }
            } else {
                ok = false
                detail = "not produced to \(k.topic): this job has no Kafka producer (run with --brokers)"
            }
            try record(ok ? .executed : .failed, e, a, detail) { ok ? ($0.executed += 1) : ($0.failed += 1) }
        }
    }

    // MARK: the audit log

    private func events(_ e: OutboxEntry, _ action: Int) -> Set<AuditRecord.Event> {
        lock.lock(); defer { lock.unlock() }
        return progress["\(e.id)#\(action)"] ?? []
    }

    /// Audits `event` unless this decision/action already has it (a restart repeating itself).
    private func once(_ event: AuditRecord.Event, _ e: OutboxEntry, _ a: PlannedAction?, _ detail: String, count: (inout Counts) -> Void) throws {
        guard !events(e, a?.index ?? -1).contains(event) else { return }
        try record(event, e, a, detail, count: count)
    }

    private func record(_ event: AuditRecord.Event, _ e: OutboxEntry, _ a: PlannedAction?, _ detail: String, count: (inout Counts) -> Void) throws {
        let r = AuditRecord(event: event, entry: e, action: a, detail: detail, now: clock())
        try audit.append(r, sync: event == .started)
        onRecord?(r)
        lock.lock()
        progress["\(e.id)#\(a?.index ?? -1)", default: []].insert(event)
        count(&counts)
        lock.unlock()
        let line = "remediation \(event.rawValue): policy \(e.policy), incident \(e.incidentID)\(a.map { ", action \($0.index) (\($0.kind))" } ?? ""): \(detail)"
        if event == .failed || event == .interrupted { logger.warning("\(line)") } else { logger.info("\(line)") }
    }

    private func nowMs() -> Int64 { Int64(clock().timeIntervalSince1970 * 1000) }
}
