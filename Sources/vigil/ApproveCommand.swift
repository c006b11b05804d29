import ArgumentParser
import Foundation
import Remediate

/// `vigil approve`: lets an action that waits for approval run (or rejects it).
struct ApproveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Approves (or rejects) a remediation action waiting for approval; --list shows them.",
        discussion: """
            The running job (vigil remediate, or vigil incidents with --policies) notices within \
            a second and runs the action, which the audit log then records. An approval past \
            its policy's timeout is refused: the action has expired.
            """
    )

    @Argument(help: "The approval id, as the audit log and --list show it.") var id: String?
    @Option(help: "Remediation directory of the job.") var dir: String
    @Flag(help: "List the actions waiting for approval.") var list = false
    @Flag(help: "Reject instead of approving.") var reject = false
    @Option(help: "Who decides (recorded in the audit log); default: $USER.") var by: String?

    func validate() throws {
        guard list || id != nil else { throw ValidationError("give an approval id, or --list") }
    }

    func run() throws {
        let store = try ApprovalStore(directory: dir + "/approvals")
        let nowMs = Int64(Date().timeIntervalSince1970 * 1000)
        if list {
            let pending = store.pending().filter { store.decision($0.entry.id) == nil }
            if pending.isEmpty { print("nothing is waiting for approval in \(dir)") }
            for r in pending {
                let left = max(0, r.expiresAtMs - nowMs) / 1000
                print("\(r.entry.id)  policy \(r.entry.policy), incident \(r.entry.incidentID), expires in \(left / 60)m\(left % 60)s")
                for a in r.entry.actions { print("    \(a.summary)") }
            }
            return
        }
        let who = by ?? ProcessInfo.processInfo.environment["USER"] ?? "unknown"
        do {
            let r = try store.decide(id!, approved: !reject, by: who, nowMs: nowMs)
            print("\(reject ? "rejected" : "approved") \(id!): policy \(r.entry.policy), incident \(r.entry.incidentID)")
        } catch let refusal as ApprovalStore.Refusal {
            FileHandle.standardError.write(Data("vigil approve: \(refusal)\n".utf8))
            throw ExitCode(1)
        }
    }
}
