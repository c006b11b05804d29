/// The keyed state of one operator subtask. Holds the *current key* — set by the operator
/// before user code runs for a record or a timer — and every state registered by name.
///
/// State lives in one hash table per key group of the subtask's range (`KeyGroupedTable`):
/// a snapshot enumerates it group by group, a restore at another parallelism takes whole
/// groups, and Swift's copy-on-write tables let a snapshot keep a cheap reference while
/// processing continues (only the groups written afterwards get copied, one at a time).
public final class KeyedStateBackend<K: StreamKey> {
    public let keyGroups: KeyGroupRange
    public let maxParallelism: Int
    let clock: any ProcessingClock
    public private(set) var currentKey: K?
    /// Index of the current key's group within `keyGroups`.
    @usableFromInline var currentGroupIndex = 0
    private(set) var states: [String: any KeyedStateEnumerable] = [:]
    /// Restored entries of states not registered yet (handles are made in `open`).
    private var pendingRestore: [String: [(group: Int, bytes: [UInt8])]] = [:]

    init(keyGroups: KeyGroupRange, maxParallelism: Int, clock: any ProcessingClock) {
        self.keyGroups = keyGroups
        self.maxParallelism = maxParallelism
        self.clock = clock
    }

    @inline(__always)
    func setCurrentKey(_ key: K) {
        currentKey = key
        let group = KeyGroups.keyGroup(of: key, maxParallelism: maxParallelism)
        precondition(keyGroups.contains(group), "key \(key) (group \(group)) routed to a subtask owning \(keyGroups)")
        currentGroupIndex = group - keyGroups.start
    }

    /// The state registered as `name`, created on first use. Registering a name twice with
    /// different kinds or types is a programming error and stops the job with a clear message.
    func register<S: KeyedStateEnumerable>(_ name: String, make: () -> S) throws -> S {
        if let existing = states[name] {
            guard let typed = existing as? S else {
                throw StateRegistrationError(name: name, registered: "\(type(of: existing))", requested: "\(S.self)")
            }
            return typed
        }
        let state = make()
        states[name] = state
        if let restored = pendingRestore.removeValue(forKey: name) { try state.restore(restored) }
        return state
    }

    // MARK: checkpoints

    static func sectionName(ofState name: String) -> String { "state/" + name }

    func checkpointProblems(operatorName: String) -> [String] {
        states.values.compactMap { $0.coderProblem.map { "operator '\(operatorName)': \($0)" } }
    }

    /// One section per state; each holds a copy-on-write copy of its tables. Restored state
    /// that no code has asked for yet (registration is lazy) is written back as it was read:
    /// a checkpoint taken before the first record must not lose it.
    func snapshotSections() throws -> [KeyedSection] {
        var sections = try states.keys.sorted().map { name in
            let section = try states[name]!.snapshotSection()
            return KeyedSection(name: Self.sectionName(ofState: name), write: section)
        }
        for (name, blocks) in pendingRestore.sorted(by: { $0.key < $1.key }) {
            let byGroup = Dictionary(blocks.map { ($0.group, $0.bytes) }, uniquingKeysWith: { a, _ in a })
            sections.append(KeyedSection(name: Self.sectionName(ofState: name)) { group, w in
                // As `KeyedStateBase.snapshotSection` writes an empty group: no flags, no entries.
                if let bytes = byGroup[group] { w.append(raw: bytes) } else { w.write(UInt8(0)); w.writeVarint(0) }
            })
        }
        return sections
    }

    /// Takes the restored sections that hold keyed state; states registered later pick theirs
    /// up in `register`.
    func restore(_ sections: [String: [(group: Int, bytes: [UInt8])]]) throws {
        for (section, blocks) in sections where section.hasPrefix("state/") {
            let name = String(section.dropFirst("state/".count))
            if let state = states[name] { try state.restore(blocks) } else { pendingRestore[name] = blocks }
        }
    }

    /// Number of entries (keys with state) over all registered states.
    public var entryCount: Int { states.values.reduce(0) { $0 + $1.entryCount } }
}

public struct StateRegistrationError: Error, CustomStringConvertible {
    public var name: String
    public var registered: String
    public var requested: String
    public var description: String { "state '\(name)' is registered as \(registered), requested as \(requested)" }
}

/// What a snapshot needs from a keyed state, whatever its value type.
public protocol KeyedStateEnumerable: AnyObject {
    var name: String { get }
    var entryCount: Int { get }
    /// The keys that have state in key group `group` (an absolute key group number).
    func keys(inKeyGroup group: Int) -> [AnyHashable]
    /// Why this state cannot be checkpointed, if it can't.
    var coderProblem: String? { get }
    /// A copy of the state, encoding one key group per call.
    func snapshotSection() throws -> (_ group: Int, _ into: inout StateWriter) -> Void
    func restore(_ blocks: [(group: Int, bytes: [UInt8])]) throws
}

/// One hash table per key group of a subtask's range.
struct KeyGroupedTable<K: Hashable, V> {
    var groups: [[K: V]]
    let firstGroup: Int

    init(range: KeyGroupRange) {
        groups = Array(repeating: [:], count: range.count)
        firstGroup = range.start
    }

    var count: Int { groups.reduce(0) { $0 + $1.count } }

    func keys(inKeyGroup group: Int) -> [K] {
        let i = group - firstGroup
        guard i >= 0 && i < groups.count else { return [] }
        return Array(groups[i].keys)
    }
}

/// Time-to-live of keyed state, in processing time (as in Flink). Expired values are never
/// returned, and are removed when read.
public struct StateTTL: Sendable {
    public enum UpdateType: Sendable {
        /// The clock restarts when the value is created or written.
        case onCreateAndWrite
        /// ... and also when it is read.
        case onReadAndWrite
    }
    public var timeToLive: TimeSpan
    public var updateType: UpdateType
    public init(_ timeToLive: TimeSpan, updateType: UpdateType = .onCreateAndWrite) {
        self.timeToLive = timeToLive
        self.updateType = updateType
    }
}

