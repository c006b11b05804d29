import ArgumentParser
import Foundation
import Remediate

/// `vigil audit`: prints the remediation audit log, filtered.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Prints the remediation audit log: every decision and every action's outcome.",
        discussion: """
            Events: suppressed, dry_run, awaiting_approval, approved, rejected, expired, started \
            (an exec action is about to run), executed, failed, interrupted (an exec action was \
            running when the job was killed; it is not run again).
            """
    )

    @Option(help: "Remediation directory of the job.") var dir: String
    @Option(help: "Only this policy.") var policy: String?
    @Option(help: "Only this incident.") var incident: UInt64?
    @Option(name: .customLong("event"), help: "Only these events (repeatable).") var events: [String] = []
    @Option(help: "Only lines at or after this time (RFC 3339, e.g. 2026-12-04T10:00:00Z).") var since: String?
    @Flag(help: "Print the JSON lines as stored.") var json = false

    func validate() throws {
        let known = AuditRecord.Event.allCases.map(\.rawValue)
        for e in events where !known.contains(e) {
            throw ValidationError("--event \(e): unknown; choose from \(known.joined(separator: ", "))")
        }
        if let since, ISO8601DateFormatter().date(from: since) == nil {
            throw ValidationError("--since \(since): not an RFC 3339 time such as 2026-12-04T10:00:00Z")
        }
    }

    func run() throws {
        let path = dir + "/audit.jsonl"
        guard FileManager.default.fileExists(atPath: path) else {
            FileHandle.standardError.write(Data("vigil audit: no audit log at \(path)\n".utf8))
            throw ExitCode(1)
        }
        let (records, unreadable) = try AuditLog.read(path: path)
        let sinceDate = since.flatMap { ISO8601DateFormatter().date(from: $0) }
        let parse = ISO8601DateFormatter()
        parse.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for r in records {
            if let policy, r.policy != policy { continue }
            if let incident, r.incident != incident { continue }
            if !events.isEmpty && !events.contains(r.event.rawValue) { continue }
            if let sinceDate, let t = parse.date(from: r.time), t < sinceDate { continue }
            if json {
                print(String(decoding: try encoder.encode(r), as: UTF8.self))
            } else {
                let action = r.action.map { " action \($0) (\(r.kind ?? "?"))" } ?? ""
                print("\(r.time)  \(r.event.rawValue.padding(toLength: 17, withPad: " ", startingAt: 0)) \(r.policy) incident \(r.incident)\(action) [\(r.decision)]: \(r.detail)")
            }
        }
        if unreadable > 0 { FileHandle.standardError.write(Data("vigil audit: \(unreadable) unreadable lines skipped\n".utf8)) }
    }
}
