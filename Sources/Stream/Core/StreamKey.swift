/// A key of a keyed stream.
///
/// Swift's `Hasher` is seeded per process, so it cannot decide which key group a key belongs
/// to: a checkpoint written by one process must be restorable by another, at another
/// parallelism. Keys therefore provide a *stable* 64-bit hash, identical in every process,
/// and an encoding for checkpoints (`StateCodable`; the standard key types have both).
public protocol StreamKey: Hashable, Sendable, StateCodable {
    var stableHash: UInt64 { get }
}

/// FNV-1a over bytes: stable, simple, and good enough once mixed by `KeyGroups.murmurMix`.
@inlinable
func fnv1a<S: Sequence>(_ bytes: S) -> UInt64 where S.Element == UInt8 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in bytes {
        h ^= UInt64(b)
        h &*= 0x100_0000_01b3
    }
    return h
}

extension Int: StreamKey { @inlinable public var stableHash: UInt64 { UInt64(bitPattern: Int64(self)) } }
extension Int64: StreamKey { @inlinable public var stableHash: UInt64 { UInt64(bitPattern: self) } }
extension Int32: StreamKey { @inlinable public var stableHash: UInt64 { UInt64(bitPattern: Int64(self)) } }
extension UInt64: StreamKey { @inlinable public var stableHash: UInt64 { self } }
extension UInt32: StreamKey { @inlinable public var stableHash: UInt64 { UInt64(self) } }
extension Bool: StreamKey { @inlinable public var stableHash: UInt64 { self ? 1 : 0 } }
extension String: StreamKey {
    @inlinable public var stableHash: UInt64 {
        var copy = self
        return copy.withUTF8 { fnv1a($0) }
    }
}
extension Substring: StreamKey {
    @inlinable public var stableHash: UInt64 { String(self).stableHash }
}

/// Composite keys, e.g. `keyBy { StreamKeyPair($0.service, $0.operation) }`.
public struct StreamKeyPair<A: StreamKey, B: StreamKey>: StreamKey, CustomStringConvertible {
    public var first: A
    public var second: B
    public init(_ first: A, _ second: B) { self.first = first; self.second = second }
    @inlinable public var stableHash: UInt64 {
        // Mix the first hash before combining so (a, b) and (b, a) land apart.
        KeyGroups.murmurMix(first.stableHash) &* 31 &+ second.stableHash
    }
    public var description: String { "(\(first), \(second))" }
}
