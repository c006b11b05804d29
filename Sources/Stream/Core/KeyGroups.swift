/// Key groups are the unit of keyed state (Flink's scheme): every key hashes into one of
/// `maxParallelism` groups, and each subtask owns a contiguous range of groups. Rescaling moves
/// whole groups between subtasks, so state written at one parallelism restores at another.
public enum KeyGroups {
    public static let defaultMaxParallelism = 128

    /// MurmurHash3's 64-bit finaliser: spreads keys whose stable hashes are sequential ints.
    @inlinable
    public static func murmurMix(_ x: UInt64) -> UInt64 {
        var h = x
        h ^= h >> 33
        h &*= 0xff51_afd7_ed55_8ccd
        h ^= h >> 33
        h &*= 0xc4ce_b9fe_1a85_ec53
        h ^= h >> 33
        return h
    }

    @inlinable
    public static func keyGroup<K: StreamKey>(of key: K, maxParallelism: Int) -> Int {
        Int(truncatingIfNeeded: murmurMix(key.stableHash) % UInt64(maxParallelism))
    }

    /// The subtask that owns `keyGroup` (Flink's `computeOperatorIndexForKeyGroup`).
    @inlinable
    public static func subtask(forKeyGroup keyGroup: Int, maxParallelism: Int, parallelism: Int) -> Int {
        keyGroup * parallelism / maxParallelism
    }

    /// The contiguous range of key groups owned by `subtask`.
    public static func range(subtask: Int, parallelism: Int, maxParallelism: Int) -> KeyGroupRange {
        let start = (subtask * maxParallelism + parallelism - 1) / parallelism
        let end = ((subtask + 1) * maxParallelism + parallelism - 1) / parallelism
        return KeyGroupRange(start: start, endExclusive: end)
    }
}

public struct KeyGroupRange: Sendable, Hashable, CustomStringConvertible {
    public var start: Int
    public var endExclusive: Int
    public init(start: Int, endExclusive: Int) { self.start = start; self.endExclusive = endExclusive }
    public var count: Int { endExclusive - start }
    public func contains(_ group: Int) -> Bool { group >= start && group < endExclusive }
    public var description: String { "[\(start), \(endExclusive))" }
}
