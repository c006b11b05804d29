/// What an operator hands over at a barrier — the synchronous part of its snapshot: cheap
/// copy-on-write copies of its state, encoded later off the task thread.
public struct OperatorSnapshot: @unchecked Sendable {
    /// Keyed state, by section (one per registered state, plus timers or window contents).
    /// Each section encodes one key group on demand. The closures hold copies, never the
    /// live tables, so the task goes on processing while they are encoded.
    var keyedSections: [KeyedSection] = []
    /// This subtask's non-keyed state (source positions, pending sink transactions), encoded
    /// at once: it is small.
    var operatorState: [UInt8]?

    init(keyedSections: [KeyedSection] = [], operatorState: [UInt8]? = nil) {
        self.keyedSections = keyedSections
        self.operatorState = operatorState
    }
}

/// One named part of an operator's keyed state, encodable per key group.
struct KeyedSection {
    let name: String
    /// Appends the entries of key group `group` (an absolute key group number).
    let write: (_ group: Int, _ into: inout StateWriter) -> Void
}

/// An operator's state as read back from a checkpoint, for one new subtask: the non-keyed
/// state of every old subtask (the operator decides how to redistribute it), and the keyed
/// sections of the key groups this subtask now owns, wherever they were written.
public final class RestoredOperatorState {
    public let checkpointID: Int64
    /// The operator's parallelism when the checkpoint was taken.
    public let oldParallelism: Int
    /// Non-keyed state by old subtask index (nil where that subtask had none).
    public let operatorStates: [[UInt8]?]
    /// Section name → (key group, encoded entries) for every key group of this subtask.
    let keyedSections: [String: [(group: Int, bytes: [UInt8])]]

    init(checkpointID: Int64, oldParallelism: Int, operatorStates: [[UInt8]?],
         keyedSections: [String: [(group: Int, bytes: [UInt8])]]) {
        self.checkpointID = checkpointID
        self.oldParallelism = oldParallelism
        self.operatorStates = operatorStates
        self.keyedSections = keyedSections
    }

    /// Operator states assigned round-robin: old subtask i goes to new subtask i mod p.
    /// For state that any one subtask can take over (pending sink transactions).
    func roundRobin(subtask: Int, parallelism: Int) -> [[UInt8]] {
        operatorStates.enumerated().compactMap { i, s in i % parallelism == subtask ? s : nil }
    }
}

/// Errors that stop a restore.
public struct RestoreError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A snapshot that cannot be taken (state without a coder, a sink that cannot pre-commit).
public struct CheckpointFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
