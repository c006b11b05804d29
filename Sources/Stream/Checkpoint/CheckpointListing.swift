import Foundation

/// What an operator sees of a checkpoint directory: `vigil checkpoints list|inspect|delete`.
public struct CheckpointListing: Sendable {
    public enum Status: Sendable, Equatable {
        case valid
        /// No `_metadata`: the checkpoint never completed; nothing was committed from it.
        case incomplete
        /// Completed once, but does not verify now (missing, truncated or altered files).
        case corrupt(String)
    }

    /// Checkpoint id, or nil for a savepoint.
    public var id: Int64?
    public var savepointName: String?
    public var path: String
    public var status: Status
    /// Present when the metadata could be read.
    public var metadata: CheckpointMetadata?
    public var bytes: Int { metadata?.files.reduce(0) { $0 + $1.bytes } ?? 0 }
}

extension CheckpointStorage {
    /// Every checkpoint (newest first) and savepoint under this root, each verified.
    public func list() -> [CheckpointListing] {
        var out: [CheckpointListing] = []
        for (id, path) in checkpointDirectories() { out.append(Self.listing(path, id: id, savepoint: nil)) }
        let savepoints = ((try? FileManager.default.contentsOfDirectory(atPath: savepointsDirectory)) ?? []).sorted()
        for name in savepoints { out.append(Self.listing(savepointsDirectory + "/" + name, id: nil, savepoint: name)) }
        return out
    }

    static func listing(_ path: String, id: Int64?, savepoint: String?) -> CheckpointListing {
        guard FileManager.default.fileExists(atPath: path + "/" + CheckpointMetadata.fileName) else {
            return CheckpointListing(id: id, savepointName: savepoint, path: path, status: .incomplete, metadata: nil)
        }
        do {
            let m = try validate(path)
            return CheckpointListing(id: id ?? m.checkpointID, savepointName: savepoint, path: path, status: .valid, metadata: m)
        } catch {
            let m = try? CheckpointMetadata.decode(DurableFiles.read(path + "/" + CheckpointMetadata.fileName))
            return CheckpointListing(id: id, savepointName: savepoint, path: path, status: .corrupt("\(error)"), metadata: m)
        }
    }

    /// The checkpoint a restart would restore: the newest that verifies.
    public var restorable: CheckpointListing? { list().first { $0.savepointName == nil && $0.status == .valid } }

    /// Whether `root` holds checkpoints or savepoints at all.
    public var exists: Bool {
        FileManager.default.fileExists(atPath: checkpointsDirectory) || FileManager.default.fileExists(atPath: savepointsDirectory)
    }

    /// Deletes one checkpoint or savepoint directory.
    public func delete(_ listing: CheckpointListing) throws {
        try FileManager.default.removeItem(atPath: listing.path)
        try DurableFiles.syncDirectory((listing.path as NSString).deletingLastPathComponent)
    }
}
