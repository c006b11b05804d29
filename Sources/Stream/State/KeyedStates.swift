/// Shared machinery of the keyed state kinds: a key-grouped table of entries scoped to the
/// backend's current key, with optional TTL.
///
/// A handle is only ever used by the task thread of the operator that created it. It is
/// marked Sendable so that process functions holding handles can be Sendable: the function
/// value the DSL copies to every subtask holds none yet (handles are made in `open`).
public class KeyedStateBase<K: StreamKey, V>: KeyedStateEnumerable, @unchecked Sendable {
    public let name: String
    unowned let backend: KeyedStateBackend<K>
    var table: KeyGroupedTable<K, V>
    /// When each entry's TTL clock last restarted; only for states with a TTL, so that the
    /// common case stores (and copies, and checkpoints) nothing but keys and values.
    var touchTimes: KeyGroupedTable<K, Timestamp>?
    let ttl: StateTTL?

    /// Makes the encoder of one snapshot from copies of the tables. Built in `init`, which
    /// runs specialised for the concrete key and value types: `snapshotSection` is reached
    /// through a protocol, where a loop over the table would run unspecialised generic code
    /// per entry (it did, and cost most of a checkpoint's CPU).
    private let makeSectionWriter: (KeyGroupedTable<K, V>, KeyGroupedTable<K, Timestamp>?)
        -> ((_ group: Int, _ into: inout StateWriter) -> Void)
    private let valueCoder: StateCoder<V>?

    init(name: String, backend: KeyedStateBackend<K>, ttl: StateTTL?) {
        self.name = name
        self.backend = backend
        self.table = KeyGroupedTable(range: backend.keyGroups)
        self.touchTimes = ttl == nil ? nil : KeyGroupedTable(range: backend.keyGroups)
        self.ttl = ttl
        let valueCoder = StateCoder<V>.resolve()
        self.valueCoder = valueCoder
        makeSectionWriter = { copy, times in
            { group, w in
                let i = group - copy.firstGroup
                w.write(UInt8(times == nil ? 0 : 1))
                guard let valueCoder, i >= 0 && i < copy.groups.count else { w.writeVarint(0); return }
                w.writeVarint(copy.groups[i].count)
                let encodeValue = valueCoder.encode
                for (k, v) in copy.groups[i] {
                    k.encode(to: &w)
                    encodeValue(v, &w)
                    if let times { w.write(times.groups[i][k] ?? 0) }
                }
            }
        }
    }

    public var entryCount: Int { table.count }
    public func keys(inKeyGroup group: Int) -> [AnyHashable] { table.keys(inKeyGroup: group).map(AnyHashable.init) }

    // MARK: checkpoints

    public var coderProblem: String? {
        valueCoder == nil ? notCheckpointable("state '\(name)'", V.self) : nil
    }

    /// Per key group: a flags byte (1: TTL times present), the entry count, then key, value
    /// and (with the flag) the time each entry's TTL clock last restarted.
    public func snapshotSection() throws -> (_ group: Int, _ into: inout StateWriter) -> Void {
        guard valueCoder != nil else { throw CheckpointFailure(coderProblem ?? "state '\(name)' has no coder") }
        // Copies on write: processing goes on while these are encoded.
        return makeSectionWriter(table, touchTimes)
    }

    public func restore(_ blocks: [(group: Int, bytes: [UInt8])]) throws {
        guard let valueCoder else { throw RestoreError(coderProblem ?? "state '\(name)' has no coder") }
        // State checkpointed without a TTL (or before one was configured): its clock starts now.
        let now = ttl == nil ? 0 : backend.clock.now()
        for (group, bytes) in blocks {
            let i = group - table.firstGroup
            guard i >= 0 && i < table.groups.count else { continue }
            var r = StateReader(bytes)
            let hasTimes = try r.read(UInt8.self) & 1 != 0
            let n = try r.readVarint()
            table.groups[i].reserveCapacity(table.groups[i].count + n)
            for _ in 0..<n {
                let k = try K.decode(from: &r)
                table.groups[i][k] = try valueCoder.decode(&r)
                let touched: Timestamp = hasTimes ? try r.read() : now
                touchTimes?.groups[i][k] = touched
            }
        }
    }

    @inline(__always) private var key: K {
        guard let k = backend.currentKey else { preconditionFailure("keyed state '\(name)' used outside a keyed context") }
        return k
    }

    /// The current key's value, honouring TTL.
    @inline(__always)
    final func read() -> V? {
        let g = backend.currentGroupIndex, k = key
        guard let value = table.groups[g][k] else { return nil }
        guard let ttl else { return value }
        let now = backend.clock.now()
        if now - (touchTimes!.groups[g][k] ?? now) >= ttl.timeToLive.milliseconds {
            table.groups[g][k] = nil
            touchTimes!.groups[g][k] = nil
            return nil
        }
        if ttl.updateType == .onReadAndWrite { touchTimes!.groups[g][k] = now }
        return value
    }

    @inline(__always)
    final func write(_ value: V) {
        let g = backend.currentGroupIndex, k = key
        table.groups[g][k] = value
        if ttl != nil { touchTimes!.groups[g][k] = backend.clock.now() }
    }

    /// Mutates the current key's value in place (one hash look-up), creating it if absent.
    /// A write: with a TTL, the entry's clock restarts.
    @inline(__always)
    final func modify<R>(default makeDefault: () -> V, _ body: (inout V) throws -> R) rethrows -> R {
        let g = backend.currentGroupIndex, k = key
        if ttl != nil {
            _ = read()  // drops an expired value first
            touchTimes!.groups[g][k] = backend.clock.now()
        }
        return try body(&table.groups[g][k, default: makeDefault()])
    }

    /// Removes the current key's value.
    public final func clear() {
        let g = backend.currentGroupIndex, k = key
        table.groups[g][k] = nil
        touchTimes?.groups[g][k] = nil
    }

    /// Drops every expired entry (all keys); returns how many.
    @discardableResult
    public final func purgeExpired() -> Int {
        guard let ttl, var times = touchTimes else { return 0 }
        let now = backend.clock.now()
        var removed = 0
        for g in table.groups.indices {
            let expired = times.groups[g].filter { now - $0.value >= ttl.timeToLive.milliseconds }.keys
            for k in expired {
                table.groups[g][k] = nil
                times.groups[g][k] = nil
            }
            removed += expired.count
        }
        touchTimes = times
        return removed
    }
}

/// One value per key.
public final class ValueState<K: StreamKey, V>: KeyedStateBase<K, V>, @unchecked Sendable {
    public var value: V? { read() }
    public func update(_ value: V) { write(value) }
    /// Changes the current key's value in place, starting from `makeDefault()` when it has
    /// none: for large values (a `value` read then `update` would copy them on every record).
    public func mutate<R>(default makeDefault: () -> V, _ body: (inout V) throws -> R) rethrows -> R {
        try modify(default: makeDefault, body)
    }
}

/// A list per key.
public final class ListState<K: StreamKey, V>: KeyedStateBase<K, [V]>, @unchecked Sendable {
    public var values: [V] { read() ?? [] }
    public func add(_ value: V) { modify(default: { [] }) { $0.append(value) } }
    public func update(_ values: [V]) { write(values) }
}

/// A map per key.
public final class MapState<K: StreamKey, MK: Hashable, MV>: KeyedStateBase<K, [MK: MV]>, @unchecked Sendable {
    public subscript(mapKey: MK) -> MV? { read()?[mapKey] }
    public func put(_ mapKey: MK, _ value: MV) { modify(default: { [:] }) { $0[mapKey] = value } }
    public func remove(_ mapKey: MK) { modify(default: { [:] }) { $0[mapKey] = nil } }
    public var entries: [MK: MV] { read() ?? [:] }
    public var isEmpty: Bool { read()?.isEmpty ?? true }
}

/// A value per key that every `add` folds into with a reduce function.
public final class ReducingState<K: StreamKey, V>: KeyedStateBase<K, V>, @unchecked Sendable {
    let reduce: (V, V) throws -> V
    init(name: String, backend: KeyedStateBackend<K>, ttl: StateTTL?, reduce: @escaping (V, V) throws -> V) {
        self.reduce = reduce
        super.init(name: name, backend: backend, ttl: ttl)
    }
    public var value: V? { read() }
    public func add(_ value: V) throws {
        if let current = read() { write(try reduce(current, value)) } else { write(value) }
    }
}

/// An accumulator per key, fed by `add` and read through the aggregate's result.
public final class AggregatingState<K: StreamKey, A: AggregateFunction>: KeyedStateBase<K, A.Accumulator>, @unchecked Sendable {
    let aggregate: A
    init(name: String, backend: KeyedStateBackend<K>, ttl: StateTTL?, aggregate: A) {
        self.aggregate = aggregate
        super.init(name: name, backend: backend, ttl: ttl)
    }
    public var value: A.Output? { read().map(aggregate.result) }
    public func add(_ input: A.Input) {
        modify(default: aggregate.makeAccumulator) { aggregate.add(input, to: &$0) }
    }
}
