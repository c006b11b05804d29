import Foundation

extension StreamEnvironment {
    /// Restores the tasks' state as `checkpointing.restore` says and makes the coordinator
    /// that will checkpoint them; nil when the job does not checkpoint.
    func prepareCheckpoints(_ tasks: [StreamTask], inlineIO: Bool) throws -> CheckpointCoordinator? {
        guard let config = checkpointing else { return nil }
        let storage = CheckpointStorage(root: config.directory)
        try DurableFiles.makeDirectory(storage.checkpointsDirectory)
        let restored = try checkpointToRestore(config, storage)
        if let restored {
            try restore(tasks, from: restored)
            logger.info("restored state", metadata: [
                "checkpoint": "\(restored.metadata.checkpointID)", "kind": "\(restored.metadata.kind)",
                "directory": "\(restored.directory)"])
        }

        var operators: [CheckpointMetadata.Operator] = []
        for op in tasks.flatMap(\.operators) where !operators.contains(where: { $0.id == op.info.uid }) {
            operators.append(CheckpointMetadata.Operator(id: op.info.uid, parallelism: op.info.parallelism))
        }
        let firstID = max(storage.highestCheckpointID(), restored?.metadata.checkpointID ?? 0) + 1
        let coordinator = CheckpointCoordinator(
            config: config, jobName: name, maxParallelism: maxParallelism,
            tasks: tasks.map { .init(inbox: $0.inbox!, isSource: $0.source != nil) },
            operators: operators, firstID: firstID, inlineIO: inlineIO, logger: logger)
        for (i, task) in tasks.enumerated() {
            task.onSnapshot = { [unowned coordinator] id, entries, syncNanos in
                coordinator.submit(task: i, id: id, entries: entries, syncNanos: syncNanos)
            }
            if task.source != nil {
                task.onSourceExhausted = { [unowned coordinator] in coordinator.sourceExhausted(task: i) }
            }
        }
        return coordinator
    }

    private func checkpointToRestore(_ config: CheckpointConfig, _ storage: CheckpointStorage) throws -> LoadedCheckpoint? {
        switch config.restore {
        case .none:
            return nil
        case .from(let path):
            do {
                return LoadedCheckpoint(directory: path, metadata: try CheckpointStorage.validate(path))
            } catch {
                throw RestoreError("cannot restore from \(path): \(error)")
            }
        case .latest:
            let (checkpoint, skipped, incomplete) = storage.latestValid(logger: logger)
            if checkpoint == nil && skipped.isEmpty && !incomplete.isEmpty {
                logger.info("no checkpoint has completed yet; starting with empty state", metadata: ["incomplete": "\(incomplete.count)"])
            }
            if checkpoint == nil && !skipped.isEmpty && !config.allowFreshStartWithoutValidCheckpoint {
                throw RestoreError("""
                    no checkpoint in \(storage.checkpointsDirectory) can be restored, refusing to start with empty state:
                    \(skipped.map { "  - " + $0 }.joined(separator: "\n"))
                    (allow a fresh start explicitly to proceed without the state)
                    """)
            }
            if checkpoint == nil && !skipped.isEmpty {
                logger.warning("no valid checkpoint; starting with empty state as allowed")
            }
            return checkpoint
        }
    }

    private func restore(_ tasks: [StreamTask], from checkpoint: LoadedCheckpoint) throws {
        guard checkpoint.metadata.maxParallelism == maxParallelism else {
            throw RestoreError("checkpoint \(checkpoint.metadata.checkpointID) was taken with maxParallelism \(checkpoint.metadata.maxParallelism); the job has \(maxParallelism) (it must not change)")
        }
        var matched = Set<String>()
        for task in tasks {
            for op in task.operators {
                guard let state = try checkpoint.state(operatorID: op.info.uid, keyGroups: op.info.keyGroups) else { continue }
                matched.insert(op.info.uid)
                do { try op.restoreState(state) } catch {
                    throw RestoreError("operator '\(op.info.name)' (subtask \(op.info.subtask + 1)/\(op.info.parallelism)): \(error)")
                }
            }
        }
        for op in checkpoint.metadata.operators where !matched.contains(op.id) {
            logger.warning("the checkpoint has state for an operator this job does not have; it is ignored",
                           metadata: ["operator": "\(op.id)"])
        }
    }
}
