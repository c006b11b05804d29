import Foundation
import Stream

/// How `vigil savepoint` reaches a running job, through its state directory:
///
///     vigil.pid               written by the job at start: whom to signal
///     savepoint.request       the savepoint's name, written by `vigil savepoint`, then SIGUSR1
///     savepoint.result        "ok DIRECTORY" or "failed REASON", written by the job
enum SavepointRequest {
    static func advertise(in state: String) {
        try? FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        try? DurableFiles.write(Array("\(getpid())\n".utf8), to: state + "/vigil.pid")
    }

    /// In the job, on SIGUSR1.
    static func serve(in state: String, handle: JobHandle, command: String) {
        let name = ((try? String(contentsOfFile: state + "/savepoint.request", encoding: .utf8)) ?? "")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let result: String
        if name.isEmpty || name.contains("/") || name.hasPrefix(".") {
            result = "failed no valid savepoint name in \(state)/savepoint.request"
        } else {
            do {
                let c = try handle.triggerSavepoint(name: name)
                result = "ok \(c.directory)"
                FileHandle.standardError.write(Data("\(command): savepoint \(name) at \(c.directory)\n".utf8))
            } catch {
                result = "failed \(error)"
            }
        }
        try? DurableFiles.write(Array((result + "\n").utf8), to: state + "/savepoint.result")
    }
}
