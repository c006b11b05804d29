/// ExportTraceServiceRequest straight from the wire into `SpanRecord`s: one pass that
/// validates the whole message and decodes each span's fixed-size fields; names,
/// attributes, events and links are left in place for `SpanRecord` to decode on demand.
/// swift-protobuf's generated types remain the reference (the tests compare the two).
enum OTLPTraceWire {
    /// Appends every span of the request to `spans`; throws, having appended nothing, if the
    /// message is not a valid OTLP trace request.
    static func decode(_ value: UnsafeRawBufferPointer, into spans: inout [SpanRecord]) throws {
        var fields: [SpanFields] = []
        let message = try decode(value, into: &fields)
        spans += fields.map { SpanRecord($0, message: message) }
    }

    /// The request's spans as `SpanFields` (each naming its origin by index), and the copy of
    /// the message they point into, which holds their origins. Fields hold no references, so a
    /// batch of them costs no reference counting until each becomes a `SpanRecord`. Throws,
    /// having appended nothing, if the message is not a valid OTLP trace request.
    static func decode(_ value: UnsafeRawBufferPointer, into spans: inout [SpanFields]) throws -> OTLPMessageBytes {
        let copy = Array(value)
        let first = spans.count
        var origins: [TelemetryOrigin] = []  // the message keeps them: one array per message
        do {
            try copy.withUnsafeBytes { b in
                var request = ProtoReader(b, 0..<b.count)
                while !request.atEnd {
                    let (field, wire) = try request.tag()
                    guard field == 1, wire == 2 else { try request.skip(wire: wire, field: field); continue }
                    try resourceSpans(b, try request.lengthDelimited(), into: &spans, origins: &origins)
                }
            }
        } catch {
            spans.removeSubrange(first...)
            throw error
        }
        return OTLPMessageBytes(copy, origins: origins)
    }

    static func resourceSpans(_ b: UnsafeRawBufferPointer, _ range: Range<Int>,
                              into spans: inout [SpanFields], origins: inout [TelemetryOrigin]) throws {
        var resource: [Attribute] = []
        var schemaURL = ""
        var scopeRanges: [Range<Int>] = []
        var r = ProtoReader(b, range)
        while !r.atEnd {
            let (field, wire) = try r.tag()
            switch field {
            case 1 where wire == 2: resource = try OTLPWire.resourceAttributes(b, try r.lengthDelimited())
            case 2 where wire == 2: scopeRanges.append(try r.lengthDelimited())
            case 3 where wire == 2: schemaURL = OTLPWire.string(b, try r.lengthDelimited())
            default: try r.skip(wire: wire, field: field)
            }
        }
        // Scopes after the resource: protobuf allows fields in any order.
        for scopeRange in scopeRanges {
            var scope: (name: String, version: String, attributes: [Attribute]) = ("", "", [])
            var scopeSchemaURL = ""
            var spanRanges: [Range<Int>] = []
            var s = ProtoReader(b, scopeRange)
            while !s.atEnd {
                let (field, wire) = try s.tag()
                switch field {
                case 1 where wire == 2: scope = try OTLPWire.scope(b, try s.lengthDelimited())
                case 2 where wire == 2: spanRanges.append(try s.lengthDelimited())
                case 3 where wire == 2: scopeSchemaURL = OTLPWire.string(b, try s.lengthDelimited())
                default: try s.skip(wire: wire, field: field)
                }
            }
            let origin = Int32(origins.count)
            origins.append(TelemetryOrigin(resourceAttributes: resource, resourceSchemaURL: schemaURL, scopeName: scope.name,
                                           scopeVersion: scope.version, scopeAttributes: scope.attributes, scopeSchemaURL: scopeSchemaURL))
            for spanRange in spanRanges { spans.append(try span(b, spanRange, origin: origin)) }
        }
    }

    @inline(__always)
    static func traceID(_ b: UnsafeRawBufferPointer, _ r: Range<Int>, _ what: StaticString) throws -> TraceID {
        if r.isEmpty { return .none }
        guard r.count == 16 else { throw OTLPFormatError(description: "\(what): trace id of \(r.count) bytes (OTLP requires 16)") }
        return TraceID(high: UInt64(bigEndian: b.loadUnaligned(fromByteOffset: r.lowerBound, as: UInt64.self)),
                       low: UInt64(bigEndian: b.loadUnaligned(fromByteOffset: r.lowerBound + 8, as: UInt64.self)))
    }

    @inline(__always)
    static func spanID(_ b: UnsafeRawBufferPointer, _ r: Range<Int>, _ what: StaticString) throws -> SpanID {
        if r.isEmpty { return .none }
        guard r.count == 8 else { throw OTLPFormatError(description: "\(what): span id of \(r.count) bytes (OTLP requires 8)") }
        return SpanID(UInt64(bigEndian: b.loadUnaligned(fromByteOffset: r.lowerBound, as: UInt64.self)))
    }

    static func span(_ b: UnsafeRawBufferPointer, _ range: Range<Int>, origin: Int32) throws -> SpanFields {
        // Ids are checked after the loop: a field that occurs twice counts by its last
        // occurrence (protobuf's rule), so an earlier one of another length is no error.
        var traceAt: Range<Int> = 0..<0, idAt: Range<Int> = 0..<0, parentAt: Range<Int> = 0..<0
        var flags: UInt32 = 0, kind: UInt64 = 0, start: UInt64 = 0, end: UInt64 = 0, dropped: UInt64 = 0
        var status: UInt64 = 0
        var name = ByteRange.empty, traceState = ByteRange.empty, statusMessage = ByteRange.empty
        var r = ProtoReader(b, range)
        while !r.atEnd {
            let (field, wire) = try r.tag()
            switch field {
            case 1 where wire == 2: traceAt = try r.lengthDelimited()
            case 2 where wire == 2: idAt = try r.lengthDelimited()
            case 3 where wire == 2: traceState = ByteRange(try r.lengthDelimited())
            case 4 where wire == 2: parentAt = try r.lengthDelimited()
            case 5 where wire == 2: name = ByteRange(try r.lengthDelimited())
            case 6 where wire == 0: kind = try r.varint()
            case 7 where wire == 1: start = try r.fixed64()
            case 8 where wire == 1: end = try r.fixed64()
            case 9 where wire == 2: try OTLPWire.validateKeyValue(b, try r.lengthDelimited())
            case 10 where wire == 0: dropped = try r.varint()
            case 11 where wire == 2: try validateEvent(b, try r.lengthDelimited())
            case 13 where wire == 2: try validateLink(b, try r.lengthDelimited())
            case 15 where wire == 2:
                var s = ProtoReader(b, try r.lengthDelimited())
                while !s.atEnd {
                    let (f, w) = try s.tag()
                    switch f {
                    case 2 where w == 2: statusMessage = ByteRange(try s.lengthDelimited())
                    case 3 where w == 0: status = try s.varint()
                    default: try s.skip(wire: w, field: f)
                    }
                }
            case 16 where wire == 5: flags = try r.fixed32()
            default: try r.skip(wire: wire, field: field)
            }
        }
        return SpanFields(
            traceID: try traceID(b, traceAt, "span"), spanID: try spanID(b, idAt, "span"),
            parentSpanID: try spanID(b, parentAt, "span parent"), flags: flags,
            kind: SpanRecord.Kind(rawValue: Int8(truncatingIfNeeded: kind)) ?? .unspecified,
            startTimeUnixNano: start, endTimeUnixNano: end,
            statusCode: SpanRecord.StatusCode(rawValue: Int8(truncatingIfNeeded: status)) ?? .unset,
            droppedAttributesCount: UInt32(truncatingIfNeeded: dropped), origin: origin,
            span: ByteRange(range), nameAt: name, traceStateAt: traceState, statusMessageAt: statusMessage)
    }

    static func validateEvent(_ b: UnsafeRawBufferPointer, _ range: Range<Int>) throws {
        var r = ProtoReader(b, range)
        while !r.atEnd {
            let (field, wire) = try r.tag()
            switch field {
            case 1 where wire == 1: _ = try r.fixed64()
            case 3 where wire == 2: try OTLPWire.validateKeyValue(b, try r.lengthDelimited())
            default: try r.skip(wire: wire, field: field)
            }
        }
    }

    static func validateLink(_ b: UnsafeRawBufferPointer, _ range: Range<Int>) throws {
        var r = ProtoReader(b, range)
        var traceAt: Range<Int> = 0..<0, idAt: Range<Int> = 0..<0  // the last occurrence counts
        while !r.atEnd {
            let (field, wire) = try r.tag()
            switch field {
            case 1 where wire == 2: traceAt = try r.lengthDelimited()
            case 2 where wire == 2: idAt = try r.lengthDelimited()
            case 4 where wire == 2: try OTLPWire.validateKeyValue(b, try r.lengthDelimited())
            default: try r.skip(wire: wire, field: field)
            }
        }
        _ = try traceID(b, traceAt, "span link")
        _ = try spanID(b, idAt, "span link")
    }

    /// The ranges of every occurrence of message field `wanted`.
    static func repeatedMessages(_ b: UnsafeRawBufferPointer, _ range: Range<Int>, field wanted: UInt64) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var r = ProtoReader(b, range)
        while !r.atEnd, let (field, wire) = try? r.tag() {
            if field == wanted, wire == 2, let m = try? r.lengthDelimited() { out.append(m) } else { try? r.skip(wire: wire, field: field) }
        }
        return out
    }

    static func event(_ b: UnsafeRawBufferPointer, _ range: Range<Int>) -> SpanRecord.Event {
        var e = SpanRecord.Event(timeUnixNano: 0, name: "", attributes: [])
        var r = ProtoReader(b, range)
        while !r.atEnd, let (field, wire) = try? r.tag() {
            switch field {
            case 1: e.timeUnixNano = (try? r.fixed64()) ?? 0
            case 2: if let n = try? r.lengthDelimited() { e.name = OTLPWire.string(b, n) }
            case 3: if let kv = try? r.lengthDelimited() { e.attributes.append(OTLPWire.keyValue(b, kv)) }
            default: try? r.skip(wire: wire, field: field)
            }
        }
        return e
    }

    static func link(_ b: UnsafeRawBufferPointer, _ range: Range<Int>) -> SpanRecord.Link {
        var l = SpanRecord.Link(traceID: .none, spanID: .none, traceState: "", attributes: [], flags: 0)
        var r = ProtoReader(b, range)
        while !r.atEnd, let (field, wire) = try? r.tag() {
            switch field {
            case 1: if let t = try? r.lengthDelimited() { l.traceID = (try? traceID(b, t, "link")) ?? .none }
            case 2: if let s = try? r.lengthDelimited() { l.spanID = (try? spanID(b, s, "link")) ?? .none }
            case 3: if let s = try? r.lengthDelimited() { l.traceState = OTLPWire.string(b, s) }
            case 4: if let kv = try? r.lengthDelimited() { l.attributes.append(OTLPWire.keyValue(b, kv)) }
            case 6: l.flags = (try? r.fixed32()) ?? 0
            default: try? r.skip(wire: wire, field: field)
            }
        }
        return l
    }
}
