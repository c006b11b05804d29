import Foundation

/// How each thread of this process spent a stretch of time: on a core, runnable but waiting
/// for one, or asleep (`/proc/self/task/*/schedstat`). A profiling aid for benchmarks whose
/// threads compete for few cores (the kafka benchmark: the mock broker, librdkafka's broker
/// thread and the source share two). It samples every 25 ms from a thread of its own, so that
/// threads which end before the stretch does are still counted (up to their last sample).
final class ThreadTimeSampler: @unchecked Sendable {
    struct ThreadTimes { var name: String; var running: Double; var waiting: Double }

    private let lock = NSLock()
    private var latest: [Int: ThreadTimes] = [:]
    private var stopping = false
    private let before = ThreadTimeSampler.read()

    init() {
        Thread.detachNewThread { [self] in
            while true {
                let now = Self.read()
                let done = lock.withLock {
                    latest.merge(now) { $1 }
                    return stopping
                }
                if done { break }
                usleep(25_000)
            }
        }
    }

    /// Stops sampling and prints each thread that ran or waited for 10 ms or more.
    func printThreads(wall: Double) {
        usleep(50_000)  // one more sample
        let after = lock.withLock { stopping = true; return latest }
        for (id, a) in after.sorted(by: { $0.key < $1.key }) {
            let b = before[id] ?? ThreadTimes(name: a.name, running: 0, waiting: 0)
            let running = (a.running - b.running) / 1e9, waiting = (a.waiting - b.waiting) / 1e9
            guard running > 0.01 || waiting > 0.01 else { continue }
            print(String(format: "    %-16@ on a core %.3f s, runnable and waiting %.3f s, asleep %.3f s",
                         a.name, running, waiting, max(0, wall - running - waiting)))
        }
    }

    private static func read() -> [Int: ThreadTimes] {
        var out: [Int: ThreadTimes] = [:]
        guard let tids = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") else { return out }
        for tid in tids {
            guard let id = Int(tid),
                  let stat = try? String(contentsOfFile: "/proc/self/task/\(tid)/schedstat", encoding: .utf8),
                  let name = try? String(contentsOfFile: "/proc/self/task/\(tid)/comm", encoding: .utf8) else { continue }
            let fields = stat.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            if fields.count >= 2 {
                out[id] = ThreadTimes(name: name.trimmingCharacters(in: .whitespacesAndNewlines), running: fields[0], waiting: fields[1])
            }
        }
        return out
    }
}
