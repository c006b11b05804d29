/// A sink whose output becomes visible only once the checkpoint covering it is durable: the
/// sink side of exactly-once. Records go into the current transaction; at a barrier the
/// transaction is pre-committed (made durable, closed to writes) and remembered in the
/// checkpoint; when the checkpoint completes it is committed. After a crash, the restored
/// checkpoint's pre-committed transactions are committed again (so `commit` must be
/// idempotent), and anything written after it is discarded by `recover`.
public protocol TwoPhaseCommitWriter: SinkWriter {
    associatedtype Transaction: StateCodable
    /// Closes the current transaction for checkpoint `checkpointID` and makes it durable; nil
    /// if it holds nothing. Later records go to a new transaction.
    mutating func preCommit(checkpointID: Int64) throws -> Transaction?
    /// Makes a pre-committed transaction visible. Idempotent.
    func commit(_ transaction: Transaction) throws
    /// Called once before any write, after restored transactions were committed: discard
    /// whatever earlier runs left that no checkpoint covers (`restoredCheckpoint` nil: a
    /// fresh start). `subtask`/`parallelism`: this subtask's place now.
    mutating func recover(restoredCheckpoint: Int64?, keeping: [Transaction], subtask: Int, parallelism: Int) throws
}

/// Drives a `TwoPhaseCommitWriter` through the checkpoint life cycle. Without checkpoints it
/// commits once, at the end of a bounded input.
final class TwoPhaseCommitSinkOperator<W: TwoPhaseCommitWriter>: StreamOperator {
    private var writer: W
    /// Pre-committed transactions by the checkpoint that covers them, oldest first. An
    /// aborted checkpoint's transaction stays here and is committed with a later one.
    private var pending: [(checkpoint: Int64, transaction: W.Transaction)] = []
    private var restored: (checkpoint: Int64, transactions: [W.Transaction])?

    init(info: OperatorInfo, runtime: OperatorRuntime, writer: W) {
        self.writer = writer
        super.init(info: info, inputs: 1, runtime: runtime)
    }

    override func open() throws {
        do {
            // Transactions of the restored checkpoint: it completed, so they are committed
            // (again, if the previous run got that far).
            for t in restored?.transactions ?? [] { try writer.commit(t) }
            try writer.recover(restoredCheckpoint: restored?.checkpoint, keeping: restored?.transactions ?? [],
                               subtask: info.subtask, parallelism: info.parallelism)
        } catch {
            throw wrap(error, context: "recovering its transactions")
        }
        restored = nil
    }

    @inline(__always)
    func process(_ value: W.Input, _ ts: Timestamp) throws {
        do { try writer.write(value, timestamp: ts) } catch { throw wrap(error, context: "record \(shortDescription(value))") }
    }

    override func onFinish() throws {
        do {
            try writer.finish()
            // Without checkpoints the end of input is the only commit point; with them, the
            // final checkpoint of the job commits what is left.
            if !checkpointingEnabled, let t = try writer.preCommit(checkpointID: 0) { try writer.commit(t) }
        } catch {
            throw wrap(error, context: "finishing its output")
        }
    }

    override func snapshotState(checkpointID: Int64) throws -> OperatorSnapshot? {
        do {
            if let t = try writer.preCommit(checkpointID: checkpointID) { pending.append((checkpointID, t)) }
        } catch {
            throw wrap(error, context: "pre-committing for checkpoint \(checkpointID)")
        }
        var w = StateWriter()
        w.writeVarint(pending.count)
        for p in pending { p.transaction.encode(to: &w) }
        return OperatorSnapshot(operatorState: w.bytes)
    }

    override func notifyCheckpointComplete(_ id: Int64) throws {
        while let first = pending.first, first.checkpoint <= id {
            do { try writer.commit(first.transaction) } catch { throw wrap(error, context: "committing checkpoint \(id)") }
            pending.removeFirst()
        }
    }

    /// Transactions of every old subtask are spread over the new ones (any subtask can commit
    /// any transaction), so rescaling loses none.
    override func restoreState(_ state: RestoredOperatorState) throws {
        var transactions: [W.Transaction] = []
        for bytes in state.roundRobin(subtask: info.subtask, parallelism: info.parallelism) {
            var r = StateReader(bytes)
            for _ in 0..<(try r.readVarint()) { transactions.append(try W.Transaction.decode(from: &r)) }
        }
        restored = (state.checkpointID, transactions)
    }
}
