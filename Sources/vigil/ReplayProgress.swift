import Foundation

/// A progress bar on stderr, redrawn twice a second: share done, messages, rate and ETA.
/// Invisible when stderr is not a terminal (logs and CI see the summary line only).
final class ReplayProgress: @unchecked Sendable {
    private let total: Int64
    private let visible: Bool
    private let done: @Sendable () -> Int
    private let lock = NSLock()
    private var running = false
    private let started = Date()

    init(total: Int64, visible: Bool, done: @escaping @Sendable () -> Int) {
        self.total = total
        self.visible = visible
        self.done = done
    }

    func start() {
        guard visible else { return }
        lock.withLock { running = true }
        Thread { [self] in
            while lock.withLock({ running }) {
                draw()
                Thread.sleep(forTimeInterval: 0.5)
            }
        }.start()
    }

    func stop() {
        let wasRunning = lock.withLock { defer { running = false }; return running }
        guard wasRunning else { return }
        draw()
        FileHandle.standardError.write(Data("\n".utf8))
    }

    private func draw() {
        FileHandle.standardError.write(Data(("\r" + Self.line(done: Int64(done()), total: total, elapsed: Date().timeIntervalSince(started)) + "\u{1B}[K").utf8))
    }

    /// `[#######.............]  35%  1.2M of 3.4M messages  410k/s  ETA 5 s`
    static func line(done: Int64, total: Int64, elapsed: Double, width: Int = 24) -> String {
        let share = total > 0 ? min(1, Double(done) / Double(total)) : 1
        let filled = Int((share * Double(width)).rounded(.down))
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let eta = rate > 0 && done < total ? "ETA \(Int((Double(total - done) / rate).rounded(.up))) s" : ""
        return "[\(String(repeating: "#", count: filled))\(String(repeating: ".", count: width - filled))] \(String(format: "%3d%%", Int(share * 100)))  "
            + "\(count(done)) of \(count(total)) messages  \(count(Int64(rate)))/s  \(eta)"
    }

    static func count(_ n: Int64) -> String {
        n >= 1_000_000 ? String(format: "%.1fM", Double(n) / 1e6) : n >= 10_000 ? "\(n / 1000)k" : "\(n)"
    }
}
