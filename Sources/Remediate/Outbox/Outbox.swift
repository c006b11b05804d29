import Foundation
import Stream

/// The directory between the policy engine and the dispatcher. Decisions reach it through a
/// two-phase commit: a checkpoint's decisions are written to `.pending-NAME` when the barrier
/// passes and renamed to `ready-NAME` when the checkpoint completes; the dispatcher executes
/// `ready-*` files in name order and renames each to `done-NAME` when all of it is done (and
/// audited). So an action runs only once the checkpoint that recorded its intent is durable,
/// and a crash either loses a decision that no checkpoint covers (the replay makes it again)
/// or finds it in `ready-*` and finishes it.
///
/// NAME is `<pre-commit time ms, 13 digits>-<checkpoint>-<subtask>-<random>`: ordered by time,
/// and unique across runs that start from nothing.
public struct Outbox: Sendable {
    public let directory: String

    public init(directory: String) throws {
        try DurableFiles.makeDirectory(directory)
        self.directory = directory
    }

    func path(_ prefix: String, _ name: String) -> String { "\(directory)/\(prefix)\(name)" }

    /// Names of the files ready for the dispatcher, oldest first.
    public func ready() -> [String] { names(withPrefix: "ready-") }
    public func done() -> [String] { names(withPrefix: "done-") }

    func names(withPrefix prefix: String) -> [String] {
        let all = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return all.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }.sorted()
    }

    /// The entries of a ready file. An I/O error is thrown as such (the next pass tries again);
    /// content that does not decode is `Unreadable`.
    public func entries(ofReady name: String) throws -> [OutboxEntry] {
        let bytes = try DurableFiles.read(path("ready-", name))
        let decoder = JSONDecoder()
        do {
            return try bytes.split(separator: UInt8(ascii: "\n")).map { try decoder.decode(OutboxEntry.self, from: Data($0)) }
        } catch {
            throw Unreadable(description: "\(error)")
        }
    }

    public struct Unreadable: Error, CustomStringConvertible {
        public var description: String
    }

    func setAside(_ name: String) throws {
        guard rename(path("ready-", name), path("corrupt-", name)) == 0 else { throw DurableFiles.IOError("cannot rename to", path("corrupt-", name)) }
        try DurableFiles.syncDirectory(directory)
    }

    public func markDone(_ name: String) throws {
        guard rename(path("ready-", name), path("done-", name)) == 0 else { throw DurableFiles.IOError("cannot rename to", path("done-", name)) }
        try DurableFiles.syncDirectory(directory)
    }
}

/// The sink side of the outbox (see `Outbox`).
public struct OutboxWriter: TwoPhaseCommitWriter {
    public struct Transaction: StateCodable, Sendable {
        public var name: String
        public func encode(to w: inout StateWriter) { name.encode(to: &w) }
        public static func decode(from r: inout StateReader) throws -> Transaction { Transaction(name: try .decode(from: &r)) }
    }

    let outbox: Outbox
    let subtask: Int
    /// Told when a file became ready, so it need not wait for its next poll.
    let onReady: @Sendable () -> Void
    private var buffer: [UInt8] = []
    private let encoder: JSONEncoder

    public init(outbox: Outbox, subtask: Int, onReady: @escaping @Sendable () -> Void = {}) {
        self.outbox = outbox
        self.subtask = subtask
        self.onReady = onReady
        encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    }

    public mutating func write(_ entry: OutboxEntry, timestamp: Timestamp) throws {
        buffer.append(contentsOf: try encoder.encode(entry))
        buffer.append(UInt8(ascii: "\n"))
    }

    public mutating func preCommit(checkpointID: Int64) throws -> Transaction? {
        guard !buffer.isEmpty else { return nil }
        let ms = String(Int64(Date().timeIntervalSince1970 * 1000))
        let name = String(repeating: "0", count: max(0, 13 - ms.count)) + ms + "-\(checkpointID)-\(subtask)-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        try DurableFiles.write(buffer, to: outbox.path(".pending-", name))
        buffer.removeAll(keepingCapacity: true)
        return Transaction(name: name)
    }

    public func commit(_ t: Transaction) throws {
        let pending = outbox.path(".pending-", t.name)
        if FileManager.default.fileExists(atPath: pending) {
            guard rename(pending, outbox.path("ready-", t.name)) == 0 else { throw DurableFiles.IOError("cannot rename to", outbox.path("ready-", t.name)) }
            try DurableFiles.syncDirectory(outbox.directory)
        } else if !FileManager.default.fileExists(atPath: outbox.path("ready-", t.name))
                    && !FileManager.default.fileExists(atPath: outbox.path("done-", t.name)) {
            throw CheckpointFailure("outbox file \(t.name) is lost: none of .pending-, ready- or done- exists in \(outbox.directory)")
        }
        onReady()
    }

    /// Pending files no restored checkpoint covers were written by a run that crashed after
    /// the barrier but before the checkpoint completed: their decisions will be made again.
    public mutating func recover(restoredCheckpoint: Int64?, keeping: [Transaction], subtask: Int, parallelism: Int) throws {
        let keep = Set(keeping.map(\.name))
        for name in outbox.names(withPrefix: ".pending-") where !keep.contains(name) {
            try? FileManager.default.removeItem(atPath: outbox.path(".pending-", name))
        }
    }

    public mutating func finish() throws {}
}

extension DataStream where T == OutboxEntry {
    /// Writes decisions to the outbox, visible to the dispatcher once their checkpoint is
    /// complete (at the end of input without checkpoints).
    public func writeToOutbox(_ outbox: Outbox, name: String = "outbox", onReady: @escaping @Sendable () -> Void = {}) {
        sink(name: name, parallelism: 1) { subtask, _ in OutboxWriter(outbox: outbox, subtask: subtask, onReady: onReady) }
    }
}
