import Foundation
import Logging

/// Checkpoints and savepoints in a local state directory:
///
///     <root>/checkpoints/chk-0000000042/{task-*.state, _metadata}
///     <root>/savepoints/<name>/{task-*.state, _metadata}
///
/// A checkpoint directory without a valid `_metadata` is incomplete and never restored.
public struct CheckpointStorage: Sendable {
    public let root: String
    public init(root: String) { self.root = root }

    var checkpointsDirectory: String { root + "/checkpoints" }
    var savepointsDirectory: String { root + "/savepoints" }

    func directory(forCheckpoint id: Int64) -> String {
        let digits = String(id)
        return checkpointsDirectory + "/chk-" + String(repeating: "0", count: max(0, 10 - digits.count)) + digits
    }
    func directory(forSavepoint name: String) -> String { savepointsDirectory + "/" + name }

    /// Checkpoint directories present (complete or not), newest first.
    func checkpointDirectories() -> [(id: Int64, path: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: checkpointsDirectory)) ?? []
        return names.compactMap { n -> (Int64, String)? in
            guard n.hasPrefix("chk-"), let id = Int64(n.dropFirst(4)) else { return nil }
            return (id, checkpointsDirectory + "/" + n)
        }.sorted { $0.0 > $1.0 }
    }

    /// The highest checkpoint id ever used here: new ids continue above it, so a new
    /// checkpoint never reuses the directory (or the sink transaction names) of an old one.
    func highestCheckpointID() -> Int64 { checkpointDirectories().first?.id ?? 0 }

    func writeTaskFile(in directory: String, name: String, entries: [TaskStateFile.Entry]) throws -> CheckpointMetadata.File {
        let (bytes, crc) = try TaskStateFile.encode(entries)
        try DurableFiles.write(bytes, to: directory + "/" + name)
        return CheckpointMetadata.File(name: name, bytes: bytes.count, crc32c: crc)
    }

    /// Makes the checkpoint complete: the metadata is the last file written.
    func writeMetadata(_ metadata: CheckpointMetadata, in directory: String) throws {
        try DurableFiles.write(try metadata.encoded(), to: directory + "/" + CheckpointMetadata.fileName)
    }

    func discard(_ directory: String) {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Keeps the newest `retained` complete checkpoints; removes older ones, and incomplete
    /// (aborted or interrupted) directories older than the newest complete one.
    func applyRetention(retained: Int, logger: Logger) {
        var kept = 0
        for (id, path) in checkpointDirectories() {
            let complete = FileManager.default.fileExists(atPath: path + "/" + CheckpointMetadata.fileName)
            if complete && kept < retained {
                kept += 1
                continue
            }
            if kept > 0 {
                logger.debug("removing checkpoint", metadata: ["checkpoint": "\(id)"])
                discard(path)
            }
        }
    }

    /// Reads and fully verifies a checkpoint or savepoint directory: the metadata's checksum,
    /// then every listed file's size and checksum (task files also carry their own).
    public static func validate(_ directory: String) throws -> CheckpointMetadata {
        let metadataPath = directory + "/" + CheckpointMetadata.fileName
        guard FileManager.default.fileExists(atPath: metadataPath) else {
            throw RestoreError("no \(CheckpointMetadata.fileName) (the checkpoint never completed)")
        }
        let metadata = try CheckpointMetadata.decode(try DurableFiles.read(metadataPath))
        for f in metadata.files {
            let path = directory + "/" + f.name
            guard FileManager.default.fileExists(atPath: path) else { throw RestoreError("\(f.name): missing") }
            let bytes = try DurableFiles.read(path)
            guard bytes.count == f.bytes else { throw RestoreError("\(f.name): \(bytes.count) bytes, metadata says \(f.bytes) (truncated?)") }
            let crc = CRC32C.checksum(bytes)
            guard crc == f.crc32c else { throw RestoreError("\(f.name): checksum mismatch (metadata says \(hex(f.crc32c)), content is \(hex(crc)))") }
            try TaskStateFile.verify(bytes, name: f.name)
        }
        return metadata
    }

    /// The newest checkpoint that verifies, and why each newer one was skipped.
    /// The newest checkpoint that validates. `skipped` lists completed checkpoints (they have
    /// `_metadata`) that failed to validate: state that existed and is lost. `incomplete` lists
    /// directories of checkpoints that never completed (a crash during the first checkpoint
    /// leaves one): nothing was committed from them, so they alone are no reason to refuse.
    func latestValid(logger: Logger) -> (checkpoint: LoadedCheckpoint?, skipped: [String], incomplete: [String]) {
        var skipped: [String] = [], incomplete: [String] = []
        for (id, path) in checkpointDirectories() {
            guard FileManager.default.fileExists(atPath: path + "/_metadata") else {
                incomplete.append("checkpoint \(id) at \(path) never completed (no _metadata)")
                logger.info("checkpoint \(id) at \(path) never completed (no _metadata); trying the previous one")
                continue
            }
            do {
                let metadata = try Self.validate(path)
                return (LoadedCheckpoint(directory: path, metadata: metadata), skipped, incomplete)
            } catch {
                let reason = "checkpoint \(id) at \(path) is not usable: \(error)"
                logger.warning("\(reason); trying the previous one")
                skipped.append(reason)
            }
        }
        return (nil, skipped, incomplete)
    }
}

/// A verified checkpoint being restored: reads task files on demand (each once).
final class LoadedCheckpoint {
    let directory: String
    let metadata: CheckpointMetadata
    private var files: [String: (bytes: [UInt8], index: [TaskStateFile.IndexEntry])] = [:]
    private lazy var decompressor = try? Zstd.Decompressor()

    init(directory: String, metadata: CheckpointMetadata) {
        self.directory = directory
        self.metadata = metadata
    }

    private func file(_ name: String) throws -> (bytes: [UInt8], index: [TaskStateFile.IndexEntry]) {
        if let f = files[name] { return f }
        let bytes = try DurableFiles.read(directory + "/" + name)
        let f = (bytes, try TaskStateFile.readIndex(bytes, name: name))
        files[name] = f
        return f
    }

    /// The state of operator `operatorID` for a new subtask owning `keyGroups`; nil when the
    /// checkpoint has no such operator (it was added to the topology since).
    func state(operatorID: String, keyGroups: KeyGroupRange) throws -> RestoredOperatorState? {
        guard let op = metadata.operators.first(where: { $0.id == operatorID }) else { return nil }
        var operatorStates = [[UInt8]?](repeating: nil, count: op.parallelism)
        var sections: [String: [(group: Int, bytes: [UInt8])]] = [:]
        for f in metadata.files {
            let (bytes, index) = try file(f.name)
            for e in index where e.operatorID == operatorID {
                guard e.subtask < op.parallelism else { throw RestoreError("\(f.name): subtask \(e.subtask) of \(op.parallelism)") }
                operatorStates[e.subtask] = e.operatorState
                guard let decompressor else { throw RestoreError("zstd: cannot create a decompression context") }
                for (group, block) in e.blocks where keyGroups.contains(group) {
                    for (name, data) in try TaskStateFile.readBlock(bytes, block, decompressor: decompressor) {
                        sections[name, default: []].append((group, data))
                    }
                }
            }
        }
        return RestoredOperatorState(checkpointID: metadata.checkpointID, oldParallelism: op.parallelism,
                                     operatorStates: operatorStates, keyedSections: sections)
    }
}
