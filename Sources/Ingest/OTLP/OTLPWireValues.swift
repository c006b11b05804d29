/// OTLP's common messages (KeyValue, AnyValue, InstrumentationScope, Resource) read straight
/// from the wire. `validate…` checks structure once, when a message arrives, so that a bad
/// message is rejected before any of its records is emitted; the readers that decode later,
/// on demand, can then rely on that structure.
enum OTLPWire {
    static let maxDepth = 64

    static func validateKeyValue(_ b: UnsafeRawBufferPointer, _ range: Range<Int>, depth: Int = 0) throws {
        if isPlainKeyValue(b, range) { return }
        try validateKeyValueFully(b, range, depth: depth)
    }

    /// The general check, field by field (what `isPlainKeyValue` shortcuts).
    static func validateKeyValueFully(_ b: UnsafeRawBufferPointer, _ range: Range<Int>, depth: Int = 0) throws {
        var r = ProtoReader(b, range)
        while !r.atEnd {
            let (field, wire) = try r.tag()
            switch field {
            case 1 where wire == 2: _ = try r.lengthDelimited()
            case 2 where wire == 2: try validateAnyValue(b, try r.lengthDelimited(), depth: depth + 1)
            default: try r.skip(wire: wire, field: field)
            }
        }
    }

    /// The common attribute, checked byte by byte: a short key, then a value holding one
    /// short string, a bool, an int or a double (one-byte tags and lengths). Validating spans
    /// was half the cost of decoding them, nearly all of it in attributes of this shape; any
    /// other shape (or a malformed one) goes through the full check.
    @inline(__always)
    static func isPlainKeyValue(_ b: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        guard let p = b.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return false }
        var i = range.lowerBound
        let end = range.upperBound
        guard end - i >= 4, p[i] == 0x0A, p[i + 1] < 0x80 else { return false }  // key: field 1, bytes
        i += 2 + Int(p[i + 1])
        guard end - i >= 2, p[i] == 0x12, p[i + 1] < 0x80, i + 2 + Int(p[i + 1]) == end else { return false }  // value: field 2
        i += 2
        guard i < end else { return true }  // an empty AnyValue
        switch p[i] {
        case 0x0A:  // string_value
            return end - i >= 2 && p[i + 1] < 0x80 && i + 2 + Int(p[i + 1]) == end
        case 0x10, 0x18:  // bool_value, int_value: one varint of at most 10 bytes
            var j = i + 1
            while j < end && p[j] >= 0x80 { j += 1 }
            return j + 1 == end && j - i <= 10
        case 0x21:  // double_value
            return end - i == 9
        default:
            return false
        }
    }

    static func validateAnyValue(_ b: UnsafeRawBufferPointer, _ range: Range<Int>, depth: Int) throws {
        guard depth < maxDepth else { throw ProtoWireError("attribute values nested deeper than \(maxDepth)") }
        var r = ProtoReader(b, range)
        while !r.atEnd {
            let (field, wire) = try r.tag()
            switch field {
            case 1 where wire == 2, 7 where wire == 2: _ = try r.lengthDelimited()
            case 2 where wire == 0, 3 where wire == 0, 8 where wire == 0: _ = try r.varint()
            case 4 where wire == 1: _ = try r.fixed64()
            case 5 where wire == 2, 6 where wire == 2:
                var list = ProtoReader(b, try r.lengthDelimited())
                while !list.atEnd {
                    let (f, w) = try list.tag()
                    if f == 1 && w == 2 {
                        let item = try list.lengthDelimited()
                        if field == 5 { try validateAnyValue(b, item, depth: depth + 1) } else { try validateKeyValue(b, item, depth: depth + 1) }
                    } else {
                        try list.skip(wire: w, field: f)
                    }
                }
            default: try r.skip(wire: wire, field: field)
            }
        }
    }

    @inline(__always)
    static func string(_ b: UnsafeRawBufferPointer, _ range: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: b[range]), as: UTF8.self)
    }

    /// A validated KeyValue.
    static func keyValue(_ b: UnsafeRawBufferPointer, _ range: Range<Int>) -> Attribute {
        var r = ProtoReader(b, range)
        var key = "", value = AttributeValue.empty
        while !r.atEnd, let (field, wire) = try? r.tag() {
            switch field {
            case 1: if let k = try? r.lengthDelimited() { key = string(b, k) }
            case 2: if let v = try? r.lengthDelimited() { value = anyValue(b, v) }
            default: try? r.skip(wire: wire, field: field)
            }
        }
        return Attribute(key, value)
    }

    /// A validated AnyValue (the last value field wins, as protobuf's oneof does).
    static func anyValue(_ b: UnsafeRawBufferPointer, _ range: Range<Int>) -> AttributeValue {
        var r = ProtoReader(b, range)
        var value = AttributeValue.empty
        while !r.atEnd, let (field, wire) = try? r.tag() {
            switch field {
            case 1: if let s = try? r.lengthDelimited() { value = .string(string(b, s)) }
            case 2: if let v = try? r.varint() { value = .bool(v != 0) }
            case 3: if let v = try? r.varint() { value = .int(Int64(bitPattern: v)) }
            case 4: if let v = try? r.fixed64() { value = .double(Double(bitPattern: v)) }
            case 7: if let s = try? r.lengthDelimited() { value = .bytes(Array(UnsafeRawBufferPointer(rebasing: b[s]))) }
            case 8: if let v = try? r.varint() { value = .int(Int64(Int32(truncatingIfNeeded: v))) }
            case 5, 6:
                guard let list = try? r.lengthDelimited() else { break }
                var items: [AttributeValue] = [], pairs: [Attribute] = []
                var lr = ProtoReader(b, list)
                while !lr.atEnd, let (f, w) = try? lr.tag() {
                    guard f == 1, let item = try? lr.lengthDelimited() else { try? lr.skip(wire: w, field: f); continue }
                    if field == 5 { items.append(anyValue(b, item)) } else { pairs.append(keyValue(b, item)) }
                }
                value = field == 5 ? .array(items) : .keyValues(pairs)
            default: try? r.skip(wire: wire, field: field)
            }
        }
        return value
    }

    /// Every KeyValue of repeated field `field` of the (validated) message in `range`.
    static func attributes(_ b: UnsafeRawBufferPointer, _ range: Range<Int>, field wanted: UInt64) -> [Attribute] {
        var out: [Attribute] = []
        var r = ProtoReader(b, range)
        while !r.atEnd, let (field, wire) = try? r.tag() {
            if field == wanted, wire == 2, let kv = try? r.lengthDelimited() { out.append(keyValue(b, kv)) } else { try? r.skip(wire: wire, field: field) }
        }
        return out
    }

    /// The value of the first attribute whose key is `key`, comparing bytes in place: no
    /// string is made unless it matches.
    static func attribute(_ b: UnsafeRawBufferPointer, _ range: Range<Int>, field wanted: UInt64, key: String) -> AttributeValue? {
        var key = key
        return key.withUTF8 { k -> AttributeValue? in
            var r = ProtoReader(b, range)
            while !r.atEnd, let (field, wire) = try? r.tag() {
                guard field == wanted, wire == 2, let kvRange = try? r.lengthDelimited() else { try? r.skip(wire: wire, field: field); continue }
                var kv = ProtoReader(b, kvRange)
                var matched = false
                var valueRange: Range<Int>?
                while !kv.atEnd, let (f, w) = try? kv.tag() {
                    if f == 1, let kr = try? kv.lengthDelimited() {
                        matched = kr.count == k.count && (k.isEmpty || memcmp(b.baseAddress! + kr.lowerBound, k.baseAddress!, k.count) == 0)
                    } else if f == 2, let vr = try? kv.lengthDelimited() {
                        valueRange = vr
                    } else {
                        try? kv.skip(wire: w, field: f)
                    }
                }
                if matched { return valueRange.map { anyValue(b, $0) } ?? .empty }
            }
            return nil
        }
    }

    /// A Resource or InstrumentationScope's fields, validated and decoded (once per scope).
    static func resourceAttributes(_ b: UnsafeRawBufferPointer, _ range: Range<Int>) throws -> [Attribute] {
        var r = ProtoReader(b, range)
        var out: [Attribute] = []
        while !r.atEnd {
            let (field, wire) = try r.tag()
            if field == 1 && wire == 2 {
                let kv = try r.lengthDelimited()
                try validateKeyValue(b, kv)
                out.append(keyValue(b, kv))
            } else {
                try r.skip(wire: wire, field: field)
            }
        }
        return out
    }

    static func scope(_ b: UnsafeRawBufferPointer, _ range: Range<Int>) throws -> (name: String, version: String, attributes: [Attribute]) {
        var r = ProtoReader(b, range)
        var name = "", version = "", attrs: [Attribute] = []
        while !r.atEnd {
            let (field, wire) = try r.tag()
            switch field {
            case 1 where wire == 2: name = string(b, try r.lengthDelimited())
            case 2 where wire == 2: version = string(b, try r.lengthDelimited())
            case 3 where wire == 2:
                let kv = try r.lengthDelimited()
                try validateKeyValue(b, kv)
                attrs.append(keyValue(b, kv))
            default: try r.skip(wire: wire, field: field)
            }
        }
        return (name, version, attrs)
    }
}

#if canImport(Glibc)
import Glibc
#endif
