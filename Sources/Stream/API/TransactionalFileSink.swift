import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Lines written exactly once: a two-phase-commit file sink. Each subtask writes its current
/// transaction to a hidden in-progress file; at a barrier it is fsynced and renamed to a
/// pending file; when the checkpoint completes the pending file is renamed to its final,
/// visible name. Readers of the directory see only `part-*` files, each complete and
/// covered by a completed checkpoint:
///
///     .part-<subtask>.inprogress            being written
///     .part-<subtask>-<checkpoint>.pending  pre-committed, waiting for its checkpoint
///     part-<subtask>-<checkpoint>           committed (checkpoint zero-padded to 10 digits)
///
/// Caveat: if the newest checkpoint is corrupt and an older one is restored, output that the
/// newer checkpoint already committed is produced again (nothing can un-publish it).
public struct TransactionalLinesWriter<T: Sendable>: TwoPhaseCommitWriter {
    public struct Transaction: StateCodable, Sendable {
        public var subtask: Int
        public var checkpoint: Int64
        public func encode(to w: inout StateWriter) { w.writeVarint(subtask); w.write(checkpoint) }
        public static func decode(from r: inout StateReader) throws -> Transaction {
            Transaction(subtask: try r.readVarint(), checkpoint: try r.read())
        }
    }

    let directory: String
    let subtask: Int
    let format: @Sendable (T) -> String
    private var fd: Int32 = -1
    private var buffer: [UInt8] = []

    public init(directory: String, subtask: Int, format: @escaping @Sendable (T) -> String) throws {
        try DurableFiles.makeDirectory(directory)
        self.directory = directory
        self.subtask = subtask
        self.format = format
        buffer.reserveCapacity(1 << 16)
    }

    var inProgressPath: String { "\(directory)/.part-\(subtask).inprogress" }
    func pendingPath(_ t: Transaction) -> String { "\(directory)/.part-\(t.subtask)-\(t.checkpoint).pending" }
    func finalPath(_ t: Transaction) -> String {
        let digits = String(t.checkpoint)
        return "\(directory)/part-\(t.subtask)-" + String(repeating: "0", count: max(0, 10 - digits.count)) + digits
    }

    public mutating func write(_ value: T, timestamp: Timestamp) throws {
        if fd < 0 {
            fd = open(inProgressPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw DurableFiles.IOError("cannot create", inProgressPath) }
        }
        buffer.append(contentsOf: format(value).utf8)
        buffer.append(UInt8(ascii: "\n"))
        if buffer.count >= 1 << 16 { try flushBuffer() }
    }

    private mutating func flushBuffer() throws {
        var written = 0
        while written < buffer.count {
            let n = buffer.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, buffer.count - written) }
            if n < 0 { if errno == EINTR { continue }; throw DurableFiles.IOError("cannot write", inProgressPath) }
            written += n
        }
        buffer.removeAll(keepingCapacity: true)
    }

    public mutating func preCommit(checkpointID: Int64) throws -> Transaction? {
        guard fd >= 0 else { return nil }
        try flushBuffer()
        guard fsync(fd) == 0 else { throw DurableFiles.IOError("cannot fsync", inProgressPath) }
        close(fd)
        fd = -1
        let t = Transaction(subtask: subtask, checkpoint: checkpointID)
        guard rename(inProgressPath, pendingPath(t)) == 0 else { throw DurableFiles.IOError("cannot rename to", pendingPath(t)) }
        try DurableFiles.syncDirectory(directory)
        return t
    }

    public func commit(_ t: Transaction) throws {
        let pending = pendingPath(t), final = finalPath(t)
        if FileManager.default.fileExists(atPath: pending) {
            guard rename(pending, final) == 0 else { throw DurableFiles.IOError("cannot rename to", final) }
            try DurableFiles.syncDirectory(directory)
        } else if !FileManager.default.fileExists(atPath: final) {
            throw CheckpointFailure("transaction \(t.checkpoint) of subtask \(t.subtask) is lost: neither \(pending) nor \(final) exists")
        }
    }

    /// Deletes this subtask's in-progress files, and its pending files that no restored
    /// checkpoint covers (written after it, by a run that crashed); subtask 0 also those of
    /// subtasks that no longer exist after a rescale down.
    public mutating func recover(restoredCheckpoint: Int64?, keeping: [Transaction], subtask: Int, parallelism: Int) throws {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names where name.hasPrefix(".part-") {
            let rest = name.dropFirst(".part-".count)
            let owner = Int(rest.prefix { $0.isNumber }) ?? -1
            guard owner == subtask || (subtask == 0 && owner >= parallelism) else { continue }
            var remove = name.hasSuffix(".inprogress")
            if name.hasSuffix(".pending") {
                // `.part-<owner>-<checkpoint>.pending`. One the restored checkpoint covers is
                // committed by whichever subtask got it in the restore — after a rescale maybe
                // another one, maybe right now — so only later ones are removed.
                let checkpoint = Int64(rest.dropLast(".pending".count).split(separator: "-").last ?? "")
                if let restoredCheckpoint, let checkpoint {
                    remove = checkpoint > restoredCheckpoint
                } else {
                    remove = true
                }
            }
            if remove { try? FileManager.default.removeItem(atPath: directory + "/" + name) }
        }
        try DurableFiles.syncDirectory(directory)
    }

    public mutating func finish() throws {
        if fd >= 0 { try flushBuffer() }
    }
}

extension DataStream {
    /// Writes one line per record into `directory`, exactly once: a file becomes visible
    /// (`part-<subtask>-<checkpoint>`) only when the checkpoint covering its records is
    /// complete. Without checkpointing, files are published at the end of the input.
    public func writeLinesExactlyOnce(to directory: String, name: String = "exactly-once file", parallelism: Int? = nil,
                                      format: @escaping @Sendable (T) -> String = { "\($0)" }) {
        sink(name: name, parallelism: parallelism) { s, _ in
            try TransactionalLinesWriter(directory: directory, subtask: s, format: format)
        }
    }

    /// A sink with the two-phase-commit protocol (see `TwoPhaseCommitWriter`).
    public func sink<W: TwoPhaseCommitWriter>(name: String = "sink", parallelism: Int? = nil,
                                              _ makeWriter: @escaping @Sendable (_ subtask: Int, _ parallelism: Int) throws -> W)
    where W.Input == T {
        _ = environment.addNode(name: name, parallelism: parallelism, inputs: edges(.forward)) { ctx in
            let writer = try makeWriter(ctx.info.subtask, ctx.info.parallelism)
            let op = TwoPhaseCommitSinkOperator(info: ctx.info, runtime: ctx.runtime, writer: writer)
            return OperatorInstance(op: op, inputs: [.of(Push(op.process))], mainOutput: nil)
        }
    }
}
