import Foundation

/// A value that can be written into a checkpoint: keys, state values, window accumulators,
/// timer namespaces, source positions. Implement it for hot state types (the encoding is a
/// handful of stores); types that are only `Codable` are checkpointed too, through JSON,
/// which is far slower (see `StateCoder`).
public protocol StateCodable {
    func encode(to writer: inout StateWriter)
    static func decode(from reader: inout StateReader) throws -> Self
}

/// Appends a compact little-endian binary encoding to a byte buffer.
public struct StateWriter {
    public internal(set) var bytes: [UInt8] = []
    public init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    /// Byte by byte: `append(contentsOf:)` of a raw buffer goes through the generic sequence
    /// path and cost more than everything else in encoding a checkpoint.
    @inline(__always)
    public mutating func write<I: FixedWidthInteger>(_ value: I) {
        var v = value
        for _ in 0..<MemoryLayout<I>.size {
            bytes.append(UInt8(truncatingIfNeeded: v))
            v = v >> 8
        }
    }
    /// Unsigned LEB128: lengths and counts, mostly one byte.
    public mutating func writeVarint(_ value: Int) {
        var v = UInt64(value)
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }
    public mutating func write(bytes other: some Collection<UInt8>) {
        writeVarint(other.count)
        bytes.append(contentsOf: other)
    }
    public mutating func write(_ value: String) {
        var s = value
        s.withUTF8 { write(bytes: $0) }
    }
    public mutating func reset() { bytes.removeAll(keepingCapacity: true) }
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
        guard result <= UInt64(Int.max) else { throw StateDecodingError("length \(result) out of range") }
        return Int(result)
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

extension Int: StateCodable {
    public func encode(to w: inout StateWriter) { w.write(Int64(self)) }
    public static func decode(from r: inout StateReader) throws -> Int { Int(try r.read(Int64.self)) }
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
extension StreamKeyPair: StateCodable where A: StateCodable, B: StateCodable {
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
