import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs an exec action: `posix_spawn` with the argument vector as given (no shell, no PATH
/// search), only the allow-listed environment, standard input from /dev/null, standard output
/// and error captured together (the first `outputLimit` bytes kept), and the whole process
/// group killed at the timeout. Done when the program exits, even if something it started
/// in the background lives on.
enum ExecRunner {
    struct Result: Sendable {
        /// The exit status, or 128 + the signal that ended it.
        var status: Int32
        var timedOut: Bool
        var output: String
        var succeeded: Bool { status == 0 && !timedOut }
    }

    struct SpawnError: Error, CustomStringConvertible {
        var description: String
    }

    static let outputLimit = 4096

    static func run(_ e: PlannedAction.Exec, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Result {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw SpawnError(description: "cannot create a pipe: \(String(cString: strerror(errno)))") }
        // Close-on-exec, so other programs started meanwhile do not hold the write end open.
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        defer { if fds[0] >= 0 { close(fds[0]) } }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 2)

        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        // Its own process group, so a timeout kills what it started too; default signal
        // handling and an empty mask, whatever this process has set.
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setsigdefault(&attr, &all)
        posix_spawnattr_setpgroup(&attr, 0)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([e.program] + e.arguments).map { strdup($0) } + [nil]
        let envp = e.environment.compactMap { name in environment[name].map { strdup("\(name)=\($0)") } } + [nil]
        defer { for p in argv + envp { free(p) } }

        var pid: pid_t = 0
        let rc = posix_spawn(&pid, e.program, &actions, &attr, argv, envp)
        close(fds[1])
        guard rc == 0 else { throw SpawnError(description: "cannot start \(e.program): \(String(cString: strerror(rc)))") }

        var output: [UInt8] = []
        var timedOut = false
        var status: Int32 = 0
        var exited = false
        let deadline = Date().addingTimeInterval(Double(e.timeoutMs) / 1000)
        var chunk = [UInt8](repeating: 0, count: 4096)
        var open = true
        var nap: UInt32 = 100
        // Until the program exits, or the timeout. A program that leaves something running in
        // the background holding its output open has still finished: its exit ends the wait,
        // and what it printed so far is kept.
        while !exited {
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { timedOut = true; break }
            if open {
                var p = pollfd(fd: fds[0], events: Int16(POLLIN), revents: 0)
                let ready = poll(&p, 1, Int32(min(left, 0.05) * 1000) + 1)
                if ready > 0 {
                    let n = read(fds[0], &chunk, chunk.count)
                    if n > 0, output.count < outputLimit { output.append(contentsOf: chunk[0..<min(n, outputLimit - output.count)]) }
                    if n == 0 { open = false }
                }
            } else {
                // Output closed: it is exiting (or went quiet); look again soon, then less often.
                usleep(nap)
                nap = min(nap * 2, 5_000)
            }
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { exited = true }
        }
        if exited && open {
            // What it wrote just before exiting.
            _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
            while output.count < outputLimit {
                let n = read(fds[0], &chunk, chunk.count)
                if n <= 0 { break }
                output.append(contentsOf: chunk[0..<min(n, outputLimit - output.count)])
            }
        }
        if timedOut {
            kill(-pid, SIGKILL)
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
        let signal = status & 0x7f
        let code = signal == 0 ? (status >> 8) & 0xff : 128 + signal
        return Result(status: code, timedOut: timedOut, output: String(decoding: output, as: UTF8.self))
    }
}
