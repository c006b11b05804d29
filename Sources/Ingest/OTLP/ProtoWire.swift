/// Reads the protobuf wire format in place: tags, varints, fixed-width values and the byte
/// ranges of length-delimited fields, without copying or allocating. Every read checks the
/// bounds and throws on truncated or malformed input. A known field with an unexpected wire
/// type is skipped as an unknown field, as protobuf parsers (swift-protobuf included) do.
struct ProtoReader {
    let base: UnsafeRawPointer
    var position: Int
    let end: Int

    init(_ buffer: UnsafeRawBufferPointer, _ range: Range<Int>) {
        base = buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
        position = range.lowerBound
        end = range.upperBound
    }

    var atEnd: Bool { position >= end }

    @inline(__always)
    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while position < end {
            let byte = base.load(fromByteOffset: position, as: UInt8.self)
            position += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return result }
            shift += 7
            if shift >= 64 { throw ProtoWireError("a varint longer than 10 bytes at byte \(position)") }
        }
        throw ProtoWireError("truncated varint at byte \(position)")
    }

    /// The next field's number and wire type.
    @inline(__always)
    mutating func tag() throws -> (field: UInt64, wire: UInt64) {
        let key = try varint()
        guard key >> 3 != 0 else { throw ProtoWireError("field number 0 at byte \(position)") }
        return (key >> 3, key & 7)
    }

    @inline(__always)
    mutating func fixed64() throws -> UInt64 {
        guard end - position >= 8 else { throw ProtoWireError("truncated fixed64 at byte \(position)") }
        defer { position += 8 }
        return UInt64(littleEndian: base.loadUnaligned(fromByteOffset: position, as: UInt64.self))
    }

    @inline(__always)
    mutating func fixed32() throws -> UInt32 {
        guard end - position >= 4 else { throw ProtoWireError("truncated fixed32 at byte \(position)") }
        defer { position += 4 }
        return UInt32(littleEndian: base.loadUnaligned(fromByteOffset: position, as: UInt32.self))
    }

    /// The byte range of a length-delimited field (string, bytes, message).
    @inline(__always)
    mutating func lengthDelimited() throws -> Range<Int> {
        let n = try varint()
        guard n <= UInt64(end - position) else { throw ProtoWireError("a field of \(n) bytes runs past the end at byte \(position)") }
        defer { position += Int(n) }
        return position..<position + Int(n)
    }

    mutating func skip(wire: UInt64, field: UInt64 = 0, depth: Int = 0) throws {
        switch wire {
        case 0: _ = try varint()
        case 1: _ = try fixed64()
        case 2: _ = try lengthDelimited()
        case 5: _ = try fixed32()
        case 3:
            // A group (proto2; unknown to OTLP, but valid protobuf): skip to its end tag.
            guard depth < 64 else { throw ProtoWireError("groups nested deeper than 64 at byte \(position)") }
            while true {
                let (f, w) = try tag()
                if w == 4 {
                    guard f == field else { throw ProtoWireError("group \(field) ended by the end tag of group \(f) at byte \(position)") }
                    return
                }
                try skip(wire: w, field: f, depth: depth + 1)
            }
        default: throw ProtoWireError("wire type \(wire) where a field was expected at byte \(position)")
        }
    }
}

public struct ProtoWireError: Error, CustomStringConvertible {
    public var description: String
    init(_ d: String) { description = "malformed protobuf: " + d }
}
