import Foundation

/// A value that can be written into a checkpoint: keys, state values, window accumulators,
/// timer namespaces, source positions. Implement it for hot state types (the encoding is a
/// handful of stores); types that are only `Codable` are checkpointed too, through JSON,
/// which is far slower (see `StateCoder`).
public protocol StateCodable {
    func encode(to writer: inout StateWriter)
    static func decode(from reader: inout StateReader) throws -> Self
}

/// Appends a compact little-endian binary encoding to a byte buffer. Its own growable
/// buffer (copy-on-write like an array) rather than `[UInt8]`: a fixed-width value is one
/// unaligned store, where appending to an array went byte by byte or through the generic
/// sequence path — which dominated the cost of encoding a checkpoint.
public struct StateWriter {
    final class Buffer {
        var base: UnsafeMutableRawPointer
        var count = 0
        var capacity: Int
        init(capacity: Int) {
            self.capacity = Swift.max(capacity, 64)
            base = .allocate(byteCount: self.capacity, alignment: 8)
        }
        deinit { base.deallocate() }
        func copy() -> Buffer {
            let b = Buffer(capacity: capacity)
            b.base.copyMemory(from: base, byteCount: count)
            b.count = count
            return b
        }
        func grow(toHold n: Int) {
            var c = capacity
            while c < n { c *= 2 }
            let bigger = UnsafeMutableRawPointer.allocate(byteCount: c, alignment: 8)
            bigger.copyMemory(from: base, byteCount: count)
            base.deallocate()
            base = bigger
            capacity = c
        }
    }
    private var buffer: Buffer

    public init(capacity: Int = 0) { buffer = Buffer(capacity: capacity) }

    /// Room for `n` more bytes in a buffer this writer alone owns; returns where they go.
    @inline(__always)
    private mutating func reserve(_ n: Int) -> UnsafeMutableRawPointer {
        if !isKnownUniquelyReferenced(&buffer) { buffer = buffer.copy() }
        let b = buffer
        if b.count + n > b.capacity { b.grow(toHold: b.count + n) }
        defer { b.count += n }
        return b.base + b.count
    }

    /// The bytes written so far (a copy).
    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }
    public var count: Int { buffer.count }
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: buffer.base, count: buffer.count))
    }

    @inline(__always)
    public mutating func write<I: FixedWidthInteger>(_ value: I) {
        reserve(MemoryLayout<I>.size).storeBytes(of: value.littleEndian, as: I.self)
    }
    /// Unsigned LEB128: lengths and counts, mostly one byte.
    public mutating func writeVarint(_ value: Int) {
        precondition(value >= 0, "varint of a negative length")
        writeVarint64(UInt64(value))
    }
    public mutating func writeVarint64(_ value: UInt64) {
        var v = value
        let p = reserve(10)
        var n = 0
        while v >= 0x80 {
            p.storeBytes(of: UInt8(truncatingIfNeeded: v) | 0x80, toByteOffset: n, as: UInt8.self)
            v >>= 7
            n += 1
        }
        p.storeBytes(of: UInt8(v), toByteOffset: n, as: UInt8.self)
        buffer.count -= 10 - (n + 1)  // reserved 10, the most a 64-bit varint takes
    }
    /// Raw bytes, without a length.
    public mutating func append(raw: UnsafeRawBufferPointer) {
        guard raw.count > 0 else { return }
        reserve(raw.count).copyMemory(from: raw.baseAddress!, byteCount: raw.count)
    }
    public mutating func append(raw: [UInt8]) { raw.withUnsafeBytes { append(raw: $0) } }
    public mutating func write(bytes other: some Collection<UInt8>) {
        writeVarint(other.count)
        if let done: Void = other.withContiguousStorageIfAvailable({ append(raw: UnsafeRawBufferPointer($0)) }) {
            return done
        }
        append(raw: Array(other))
    }
    public mutating func write(_ value: String) {
        var s = value
        s.withUTF8 { write(bytes: $0) }
    }
    public mutating func reset() {
        if !isKnownUniquelyReferenced(&buffer) { buffer = Buffer(capacity: buffer.capacity) }
        buffer.count = 0
    }
}

/// Reads what `StateWriter` wrote; every read checks bounds and throws on truncated input.
public struct StateReader {
    let bytes: [UInt8]
    public private(set) var offset: Int
    let end: Int

    public init(_ bytes: [UInt8], offset: Int = 0, end: Int? = nil) {
        self.bytes = bytes
        self.offset = offset
        self.end = end ?? bytes.count
    }

    public var isAtEnd: Bool { offset >= end }

    public mutating func read<I: FixedWidthInteger>(_ type: I.Type = I.self) throws -> I {
        let size = MemoryLayout<I>.size
        guard offset + size <= end else { throw StateDecodingError("truncated: needed \(size) bytes at offset \(offset)") }
        var value = I.zero
        withUnsafeMutableBytes(of: &value) { dst in
            bytes.withUnsafeBytes { src in dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[offset..<offset + size])) }
        }
        offset += size
        return I(littleEndian: value)
    }
    public mutating func readVarint() throws -> Int {
        let result = try readVarint64()
        guard result <= UInt64(Int.max) else { throw StateDecodingError("length \(result) out of range") }
        return Int(result)
    }
    public mutating func readVarint64() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < end else { throw StateDecodingError("truncated varint at offset \(offset)") }
            let b = bytes[offset]
            offset += 1
            result |= UInt64(b & 0x7f) << shift
            if b < 0x80 { break }
            shift += 7
            guard shift < 64 else { throw StateDecodingError("varint too long at offset \(offset)") }
        }
        return result
    }
    public mutating func readBytes() throws -> ArraySlice<UInt8> {
        let n = try readVarint()
        guard n <= end - offset else { throw StateDecodingError("truncated: \(n) bytes announced at offset \(offset)") }
        defer { offset += n }
        return bytes[offset..<offset + n]
    }
    public mutating func readString() throws -> String {
        String(decoding: try readBytes(), as: UTF8.self)
    }
}

public struct StateDecodingError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = "state decoding failed: \(description)" }
}

// MARK: standard types

/// `Int` as a zigzag varint: counts and ids are small, and a smaller encoding is also less
/// for zstd to chew through.
extension Int: StateCodable {
    public func encode(to w: inout StateWriter) {
        w.writeVarint64((UInt64(bitPattern: Int64(self)) << 1) ^ UInt64(bitPattern: Int64(self) >> 63))
    }
    public static func decode(from r: inout StateReader) throws -> Int {
        let z = try r.readVarint64()
        return Int(Int64(bitPattern: (z >> 1) ^ (0 &- (z & 1))))
    }
}
extension Int64: StateCodable {
    public func encode(to w: inout StateWriter) { w.write(self) }
    public static func decode(from r: inout StateReader) throws -> Int64 { try r.read() }
}
extension Int32: StateCodable {
    public func encode(to w: inout StateWriter) { w.write(self) }
    public static func decode(from r: inout StateReader) throws -> Int32 { try r.read() }
}
extension Int8: StateCodable {
    public func encode(to w: inout StateWriter) { w.write(self) }
    public static func decode(from r: inout StateReader) throws -> Int8 { try r.read() }
}
extension UInt64: StateCodable {
    public func encode(to w: inout StateWriter) { w.write(self) }
    public static func decode(from r: inout StateReader) throws -> UInt64 { try r.read() }
}
extension UInt32: StateCodable {
    public func encode(to w: inout StateWriter) { w.write(self) }
    public static func decode(from r: inout StateReader) throws -> UInt32 { try r.read() }
}
extension UInt8: StateCodable {
    public func encode(to w: inout StateWriter) { w.write(self) }
    public static func decode(from r: inout StateReader) throws -> UInt8 { try r.read() }
}
extension Bool: StateCodable {
    public func encode(to w: inout StateWriter) { w.write(UInt8(self ? 1 : 0)) }
    public static func decode(from r: inout StateReader) throws -> Bool { try r.read(UInt8.self) != 0 }
}
extension Double: StateCodable {
    public func encode(to w: inout StateWriter) { w.write(bitPattern) }
    public static func decode(from r: inout StateReader) throws -> Double { Double(bitPattern: try r.read()) }
}
extension Float: StateCodable {
    public func encode(to w: inout StateWriter) { w.write(bitPattern) }
    public static func decode(from r: inout StateReader) throws -> Float { Float(bitPattern: try r.read()) }
}
extension String: StateCodable {
    public func encode(to w: inout StateWriter) { w.write(self) }
    public static func decode(from r: inout StateReader) throws -> String { try r.readString() }
}
extension Optional: StateCodable where Wrapped: StateCodable {
    public func encode(to w: inout StateWriter) {
        if let v = self { w.write(UInt8(1)); v.encode(to: &w) } else { w.write(UInt8(0)) }
    }
    public static func decode(from r: inout StateReader) throws -> Wrapped? {
        try r.read(UInt8.self) == 0 ? nil : try Wrapped.decode(from: &r)
    }
}
extension Array: StateCodable where Element: StateCodable {
    public func encode(to w: inout StateWriter) {
        w.writeVarint(count)
        for e in self { e.encode(to: &w) }
    }
    public static func decode(from r: inout StateReader) throws -> [Element] {
        let n = try r.readVarint()
        var out: [Element] = []
        out.reserveCapacity(Swift.min(n, 1 << 16))
        for _ in 0..<n { out.append(try Element.decode(from: &r)) }
        return out
    }
}
extension Set: StateCodable where Element: StateCodable {
    public func encode(to w: inout StateWriter) { Array(self).encode(to: &w) }
    public static func decode(from r: inout StateReader) throws -> Set<Element> { Set(try [Element].decode(from: &r)) }
}
extension Dictionary: StateCodable where Key: StateCodable, Value: StateCodable {
    public func encode(to w: inout StateWriter) {
        w.writeVarint(count)
        for (k, v) in self { k.encode(to: &w); v.encode(to: &w) }
    }
    public static func decode(from r: inout StateReader) throws -> [Key: Value] {
        let n = try r.readVarint()
        var out: [Key: Value] = [:]
        out.reserveCapacity(Swift.min(n, 1 << 16))
        for _ in 0..<n { out[try Key.decode(from: &r)] = try Value.decode(from: &r) }
        return out
    }
}
extension TimeWindow: StateCodable {
    public func encode(to w: inout StateWriter) { w.write(start); w.write(end) }
    public static func decode(from r: inout StateReader) throws -> TimeWindow {
        TimeWindow(start: try r.read(), end: try r.read())
    }
}
extension Substring: StateCodable {
    public func encode(to w: inout StateWriter) { String(self).encode(to: &w) }
    public static func decode(from r: inout StateReader) throws -> Substring { Substring(try r.readString()) }
}
extension StreamKeyPair {
    public func encode(to w: inout StateWriter) { first.encode(to: &w); second.encode(to: &w) }
    public static func decode(from r: inout StateReader) throws -> StreamKeyPair {
        StreamKeyPair(try A.decode(from: &r), try B.decode(from: &r))
    }
}
extension StatsAggregate.Stats: StateCodable {
    public func encode(to w: inout StateWriter) { count.encode(to: &w); sum.encode(to: &w); min.encode(to: &w); max.encode(to: &w) }
    public static func decode(from r: inout StateReader) throws -> StatsAggregate.Stats {
        var s = StatsAggregate.Stats()
        s.count = try .decode(from: &r); s.sum = try .decode(from: &r)
        s.min = try .decode(from: &r); s.max = try .decode(from: &r)
        return s
    }
}

// MARK: resolving a coder for a type at run time

/// Encodes and decodes values of `V`, resolved once per state (not per value) from what `V`
/// conforms to: `StateCodable` (fast), else `Codable` (JSON, slow), else nothing — and a job
/// with checkpoints enabled is then refused at start, naming the operator and the type.
///
/// Resolution is dynamic so that jobs without checkpoints may keep any types in state.
public struct StateCoder<V> {
    public let encode: (V, inout StateWriter) -> Void
    public let decode: (inout StateReader) throws -> V

    public static func resolve() -> StateCoder<V>? {
        if let codable = V.self as? any StateCodable.Type { return binary(codable) }
        if let codable = V.self as? any Codable.Type { return json(codable) }
        return nil
    }

    private static func binary<C: StateCodable>(_: C.Type) -> StateCoder<V> {
        StateCoder(encode: { v, w in unsafeBitCast(v, to: C.self).encode(to: &w) },
                   decode: { r in unsafeBitCast(try C.decode(from: &r), to: V.self) })
    }

    private static func json<C: Codable>(_: C.Type) -> StateCoder<V> {
        StateCoder(encode: { v, w in
            // A Codable value that fails to encode is a bug in its Codable conformance.
            let data = try! JSONEncoder().encode(unsafeBitCast(v, to: C.self))
            w.write(bytes: data)
        }, decode: { r in
            let bytes = try r.readBytes()
            do { return unsafeBitCast(try JSONDecoder().decode(C.self, from: Data(bytes)), to: V.self) } catch {
                throw StateDecodingError("\(C.self) from JSON: \(error)")
            }
        })
    }
}

/// The message when a type in state has no coder.
func notCheckpointable(_ what: String, _ type: Any.Type) -> String {
    "\(what) of type \(type) cannot be checkpointed: conform it to StateCodable (or Codable)"
}
