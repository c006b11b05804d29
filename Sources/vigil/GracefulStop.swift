import Foundation
import Stream
import Synchronization

/// The signal that asked the process to stop (0: none). Set by the signal handler: a
/// lock-free store is all a handler may safely do.
private let stopRequested = Atomic<Int32>(0)
/// Savepoints asked for by `vigil savepoint` (SIGUSR1) and not yet taken.
private let savepointsRequested = Atomic<Int>(0)

/// What SIGTERM and SIGINT do to a running job: a final checkpoint (which commits output and
/// Kafka offsets and releases remediation actions), then a clean stop — the orchestrator's
/// "please stop" loses nothing and repeats nothing on the next start.
///
/// Plain signal handlers and a watching thread, not dispatch signal sources. With those, the
/// remediation crash test saw libdispatch's manager thread spin or trap (taking URLSession's
/// callbacks with it). The likely culprit was a double close in `LinesFileReader` (since
/// fixed) hitting libdispatch's event-loop descriptor, not the signal sources; this way keeps
/// signal handling out of libdispatch regardless.
final class GracefulStop: @unchecked Sendable {
    // @unchecked: `signalled` is guarded by `lock`. The watcher holds it weakly: once the
    // command lets go of it (the job ended by itself), the watcher ends too.
    private let lock = NSLock()
    private var signalled: Int32?
    private let pidFile: String?

    /// Installs the handlers for `handle`'s job; `checkpointing`: whether a final checkpoint
    /// can be taken. With a `stateDirectory`, `vigil savepoint --state DIR` can also ask the
    /// running job for a savepoint (see `SavepointRequest`).
    init(_ handle: JobHandle, command: String, checkpointing: Bool, stateDirectory: String? = nil) {
        signal(SIGTERM) { stopRequested.store($0, ordering: .relaxed) }
        signal(SIGINT) { stopRequested.store($0, ordering: .relaxed) }
        if let stateDirectory, checkpointing {
            signal(SIGUSR1) { _ in savepointsRequested.add(1, ordering: .relaxed) }
            SavepointRequest.advertise(in: stateDirectory)
            pidFile = stateDirectory + "/vigil.pid"
        } else {
            pidFile = nil
        }
        let watcher = Thread { [weak self] in
            while let me = self {
                if let stateDirectory, savepointsRequested.exchange(0, ordering: .relaxed) > 0 {
                    SavepointRequest.serve(in: stateDirectory, handle: handle, command: command)
                }
                let sig = stopRequested.load(ordering: .relaxed)
                if sig != 0 {
                    me.lock.lock(); me.signalled = sig; me.lock.unlock()
                    me.stop(handle, command: command, signal: sig, checkpointing: checkpointing)
                    return
                }
                usleep(50_000)
            }
        }
        watcher.name = "vigil-signals"
        watcher.start()
    }

    private func stop(_ handle: JobHandle, command: String, signal sig: Int32, checkpointing: Bool) {
        let name = sig == SIGTERM ? "SIGTERM" : "SIGINT"
        if checkpointing {
            FileHandle.standardError.write(Data("\(command): \(name): taking a final checkpoint\n".utf8))
            do {
                let c = try handle.stopWithFinalCheckpoint()
                FileHandle.standardError.write(Data("\(command): final checkpoint \(c.id) complete; stopping\n".utf8))
            } catch {
                FileHandle.standardError.write(Data("\(command): the final checkpoint failed (\(error)); stopping: the next start resumes from the one before\n".utf8))
            }
        } else {
            FileHandle.standardError.write(Data("\(command): \(name): stopping (no --state: nothing is checkpointed)\n".utf8))
        }
        handle.cancel()  // (after a final checkpoint: already stopped)
    }

    /// The job is over: nobody is to signal this process for a savepoint any more.
    deinit { if let pidFile { try? FileManager.default.removeItem(atPath: pidFile) } }

    /// The signal that stopped the job, if one did.
    var stoppedBy: Int32? { lock.lock(); defer { lock.unlock() }; return signalled }
}
