import ArgumentParser
import Foundation
import Stream

/// `vigil savepoint`: asks a running job for a savepoint — a checkpoint kept under a name,
/// never removed by retention, to restart from later or elsewhere.
struct SavepointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "savepoint",
        abstract: "Takes a savepoint of a running job (vigil run, incidents or remediate with --state).",
        discussion: "It appears under STATE/…/savepoints/NAME; `vigil checkpoints list --state STATE` shows it."
    )

    @Option(help: "The running job's state directory.") var state: String
    @Option(help: "The savepoint's name (default: savepoint-<time>).") var name: String?
    @Option(help: "How long to wait for it.") var timeoutSeconds = 120

    func run() throws {
        let name = self.name ?? "savepoint-\(Int64(Date().timeIntervalSince1970))"
        guard !name.isEmpty, !name.contains("/"), !name.hasPrefix(".") else { throw ValidationError("--name '\(name)': no '/', not starting with '.'") }
        guard let text = try? String(contentsOfFile: state + "/vigil.pid", encoding: .utf8),
              let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0, kill(pid, 0) == 0,
              // A killed job leaves its pid file; the number may be another program's by now.
              let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"),
              String(decoding: cmdline, as: UTF8.self).contains("vigil") else {
            throw CheckpointsProblem(description: "no running job with checkpoints uses \(state) (no live process in \(state)/vigil.pid)")
        }
        let result = state + "/savepoint.result"
        try? FileManager.default.removeItem(atPath: result)
        try DurableFiles.write(Array((name + "\n").utf8), to: state + "/savepoint.request")
        guard kill(pid, SIGUSR1) == 0 else { throw CheckpointsProblem(description: "cannot signal process \(pid): \(String(cString: strerror(errno)))") }
        let deadline = Date().addingTimeInterval(Double(timeoutSeconds))
        while Date() < deadline {
            if let answer = try? String(contentsOfFile: result, encoding: .utf8), answer.hasSuffix("\n") {
                if answer.hasPrefix("ok ") { print("savepoint \(name): \(answer.dropFirst(3).trimmingCharacters(in: .whitespacesAndNewlines))"); return }
                throw CheckpointsProblem(description: "the job could not take the savepoint: \(answer.dropFirst(7).trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw CheckpointsProblem(description: "no answer from process \(pid) within \(timeoutSeconds) s")
    }
}
