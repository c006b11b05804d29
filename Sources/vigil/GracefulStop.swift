import Dispatch
import Foundation
import Stream

/// What SIGTERM and SIGINT do to a running job: a final checkpoint (which commits output and
/// Kafka offsets and releases remediation actions), then a clean stop — the orchestrator's
/// "please stop" loses nothing and repeats nothing on the next start.
final class GracefulStop: @unchecked Sendable {
    // @unchecked: `signalled` is guarded by `lock`; the sources are touched only in init/deinit.
    private let lock = NSLock()
    private var signalled: Int32?
    private var sources: [DispatchSourceSignal] = []

    /// Installs the handlers for `handle`'s job; `checkpointing`: whether a final checkpoint
    /// can be taken.
    init(_ handle: JobHandle, command: String, checkpointing: Bool) {
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [self] in
                lock.lock()
                let first = signalled == nil
                if first { signalled = sig }
                lock.unlock()
                guard first else { return }
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
            source.resume()
            sources.append(source)
        }
    }

    deinit { for s in sources { s.cancel() } }

    /// The signal that stopped the job, if one did.
    var stoppedBy: Int32? { lock.lock(); defer { lock.unlock() }; return signalled }
}
