import ArgumentParser
import Foundation
import Stream

/// `--from-savepoint`: where a job's first start restores from. Only the first: once the job
/// has checkpointed past the savepoint, a restart (after a crash, with the same command line)
/// restores its newest checkpoint, as a restart without the flag would — going back to the
/// savepoint then would repeat everything since. To go back on purpose, delete the newer
/// checkpoints (`vigil checkpoints delete`) or start on a new state directory.
enum SavepointStart {
    /// `value`: a savepoint's name under `root`/savepoints, or a checkpoint or savepoint
    /// directory; `root`: the job's checkpoint directory.
    static func restorePolicy(_ value: String?, root: String, command: String) throws -> CheckpointConfig.RestorePolicy {
        guard let value else { return .latest }
        let storage = CheckpointStorage(root: root)
        let all = storage.exists ? storage.list() : []
        let path: String
        if value.contains("/") {
            path = value
        } else {
            guard let named = all.first(where: { $0.savepointName == value }) else {
                let names = all.compactMap(\.savepointName)
                throw ValidationError("--from-savepoint: no savepoint '\(value)' under \(root)/savepoints"
                                      + (names.isEmpty ? " (it has none)" : " (it has: \(names.joined(separator: ", ")))"))
            }
            path = named.path
        }
        let savepoint: CheckpointMetadata
        do { savepoint = try CheckpointStorage.validate(path) } catch {
            throw ValidationError("--from-savepoint: \(path) cannot be restored: \(error)")
        }
        let newer = all.filter { $0.savepointName == nil && $0.status == .valid && ($0.id ?? .min) > savepoint.checkpointID }
        if let newest = newer.max(by: { ($0.id ?? 0) < ($1.id ?? 0) }), let id = newest.id {
            FileHandle.standardError.write(Data("""
                vigil \(command): checkpoint \(id) is newer than savepoint \(value): restoring it (the job already ran on from the savepoint). \
                To go back to the savepoint, delete the newer checkpoints: vigil checkpoints delete --state …

                """.utf8))
            return .latest
        }
        FileHandle.standardError.write(Data("vigil \(command): starting from \(savepoint.kind) \(path)\n".utf8))
        return .from(path)
    }
}
