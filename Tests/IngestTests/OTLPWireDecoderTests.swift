import Foundation
@testable import Ingest
import OTLPProto
import SwiftProtobuf
import VigilTestSupport
import XCTest

/// The in-place trace decoder against swift-protobuf's generated code, the reference: same
/// spans, same fields, and bad bytes rejected rather than misread.
final class OTLPWireDecoderTests: XCTestCase {
    typealias Request = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest
    typealias KV = Opentelemetry_Proto_Common_V1_KeyValue

    func kv(_ key: String, _ set: (inout Opentelemetry_Proto_Common_V1_AnyValue) -> Void) -> KV {
        var a = KV()
        a.key = key
        set(&a.value)
        return a
    }

    /// Two resources, scopes, spans with every field OTLP has: events, links, nested values.
    func sampleRequest() -> Request {
        var request = Request()
        for r in 0..<2 {
            var rs = Opentelemetry_Proto_Trace_V1_ResourceSpans()
            rs.resource.attributes = [kv("service.name") { $0.stringValue = "svc-\(r)" }, kv("host.cpus") { $0.intValue = 8 }]
            rs.schemaURL = "https://opentelemetry.io/schemas/1.26.0"
            for sc in 0..<2 {
                var ss = Opentelemetry_Proto_Trace_V1_ScopeSpans()
                ss.scope.name = "scope-\(sc)"
                ss.scope.version = "1.\(sc)"
                ss.scope.attributes = [kv("lib") { $0.boolValue = true }]
                for i in 0..<5 {
                    var s = Opentelemetry_Proto_Trace_V1_Span()
                    s.traceID = Data((0..<16).map { UInt8(($0 * 7 + i + r) & 0xFF) })
                    s.spanID = Data((0..<8).map { UInt8(($0 * 13 + i + sc) & 0xFF) })
                    if i > 0 { s.parentSpanID = Data((0..<8).map { UInt8(($0 + i) & 0xFF) }) }
                    s.traceState = i % 2 == 0 ? "vendor=x" : ""
                    s.flags = 0x101
                    s.name = "GET /items/{id} \(i) é"
                    s.kind = .client
                    s.startTimeUnixNano = 1_700_000_000_000_000_000 + UInt64(i)
                    s.endTimeUnixNano = s.startTimeUnixNano + 12_345
                    var list = Opentelemetry_Proto_Common_V1_ArrayValue()
                    list.values = [Opentelemetry_Proto_Common_V1_AnyValue.with { $0.stringValue = "a" },
                                   Opentelemetry_Proto_Common_V1_AnyValue.with { $0.doubleValue = 2.5 }]
                    var nested = Opentelemetry_Proto_Common_V1_KeyValueList()
                    nested.values = [kv("inner") { $0.intValue = -3 }]
                    s.attributes = [kv("http.route") { $0.stringValue = "/items/{id}" }, kv("ok") { $0.boolValue = i % 2 == 0 },
                                    kv("n") { $0.intValue = Int64(i) - 2 }, kv("ratio") { $0.doubleValue = 0.25 },
                                    kv("raw") { $0.bytesValue = Data([0, 1, 2]) }, kv("list") { $0.arrayValue = list },
                                    kv("map") { $0.kvlistValue = nested }, kv("empty") { _ in }]
                    s.droppedAttributesCount = 2
                    var e = Opentelemetry_Proto_Trace_V1_Span.Event()
                    e.timeUnixNano = s.startTimeUnixNano + 5
                    e.name = "retry"
                    e.attributes = [kv("attempt") { $0.intValue = 2 }]
                    s.events = [e]
                    var l = Opentelemetry_Proto_Trace_V1_Span.Link()
                    l.traceID = s.traceID
                    l.spanID = Data(repeating: 9, count: 8)
                    l.traceState = "t=1"
                    l.attributes = [kv("kind") { $0.stringValue = "follows" }]
                    l.flags = 1
                    s.links = [l]
                    s.status.code = i == 3 ? .error : .ok
                    s.status.message = i == 3 ? "boom" : ""
                    ss.spans.append(s)
                }
                rs.scopeSpans.append(ss)
            }
            request.resourceSpans.append(rs)
        }
        return request
    }

    /// Through `OTLPSpanDecoder` (the source's path), checked against `OTLPTraceWire.decode`'s
    /// records: the same spans with the same origins, in the same order.
    func decode(_ bytes: [UInt8]) throws -> [SpanRecord] {
        var spans: [SpanRecord] = []
        try bytes.withUnsafeBytes { try OTLPTraceWire.decode($0, into: &spans) }
        var decoder = OTLPSpanDecoder()
        var emitted: [(SpanRecord, Int64)] = []
        try bytes.withUnsafeBytes { value in
            try decoder.decode(KafkaMessage(topic: "otlp_spans", partition: 0, offset: 0, timestamp: nil, key: nil, value: value)) { emitted.append(($0, $1)) }
        }
        XCTAssertEqual(emitted.count, spans.count)
        for ((e, time), s) in zip(emitted, spans) {
            XCTAssertEqual(e.spanID, s.spanID)
            XCTAssertEqual(e.name, s.name)
            XCTAssertEqual(time, Int64(s.startTimeUnixNano / 1_000_000))
            XCTAssertEqual(e.origin.resourceAttributes, s.origin.resourceAttributes)
            XCTAssertEqual(e.origin.scopeName, s.origin.scopeName)
        }
        return spans
    }

    func testEverySpanAndFieldMatchesSwiftProtobuf() throws {
        let request = sampleRequest()
        let spans = try decode(try request.serializedBytes())
        let reference = request.resourceSpans.flatMap { rs in rs.scopeSpans.flatMap { ss in ss.spans.map { (rs, ss, $0) } } }
        XCTAssertEqual(spans.count, reference.count)
        for (span, (rs, ss, s)) in zip(spans, reference) {
            XCTAssertEqual(span.traceID, TraceID(otlp: s.traceID))
            XCTAssertEqual(span.spanID, SpanID(otlp: s.spanID))
            XCTAssertEqual(span.parentSpanID, SpanID(otlp: s.parentSpanID))
            XCTAssertEqual(span.traceState, s.traceState)
            XCTAssertEqual(span.flags, s.flags)
            XCTAssertEqual(span.name, s.name)
            XCTAssertEqual(Int(span.kind.rawValue), s.kind.rawValue)
            XCTAssertEqual(span.startTimeUnixNano, s.startTimeUnixNano)
            XCTAssertEqual(span.endTimeUnixNano, s.endTimeUnixNano)
            XCTAssertEqual(span.attributes, s.attributes.map(Attribute.init))
            XCTAssertEqual(span.attribute("http.route"), .string("/items/{id}"))
            XCTAssertEqual(span.attribute("map"), .keyValues([Attribute("inner", .int(-3))]))
            XCTAssertNil(span.attribute("absent"))
            XCTAssertEqual(span.droppedAttributesCount, s.droppedAttributesCount)
            XCTAssertEqual(span.events, s.events.map { .init(timeUnixNano: $0.timeUnixNano, name: $0.name, attributes: $0.attributes.map(Attribute.init)) })
            XCTAssertEqual(span.links.map(\.spanID), s.links.map { SpanID(otlp: $0.spanID)! })
            XCTAssertEqual(span.links.map(\.traceState), s.links.map(\.traceState))
            XCTAssertEqual(span.links.map(\.attributes), s.links.map { $0.attributes.map(Attribute.init) })
            XCTAssertEqual(Int(span.statusCode.rawValue), s.status.code.rawValue)
            XCTAssertEqual(span.statusMessage, s.status.message)
            XCTAssertEqual(span.origin.resourceAttributes, rs.resource.attributes.map(Attribute.init))
            XCTAssertEqual(span.origin.resourceSchemaURL, rs.schemaURL)
            XCTAssertEqual(span.origin.scopeName, ss.scope.name)
            XCTAssertEqual(span.origin.scopeVersion, ss.scope.version)
            XCTAssertEqual(span.origin.scopeAttributes, ss.scope.attributes.map(Attribute.init))
        }
    }

    /// A span names its origin by index into its own message's origins, and the source reuses
    /// one decoder for every message: records kept from a message must still name that
    /// message's resource and scope after the decoder has moved on, including past a message
    /// it rejected.
    func testRecordsKeepTheirOwnMessagesOriginsAfterTheDecoderMovesOn() throws {
        func message(service: String, scopes: Int) throws -> [UInt8] {
            var request = Request()
            var rs = Opentelemetry_Proto_Trace_V1_ResourceSpans()
            rs.resource.attributes = [kv("service.name") { $0.stringValue = service }]
            for sc in 0..<scopes {
                var ss = Opentelemetry_Proto_Trace_V1_ScopeSpans()
                ss.scope.name = "\(service)-scope-\(sc)"
                var span = Opentelemetry_Proto_Trace_V1_Span()
                span.traceID = Data(repeating: 1, count: 16)
                span.spanID = Data(repeating: UInt8(sc + 1), count: 8)
                span.name = "op"
                ss.spans = [span]
                rs.scopeSpans.append(ss)
            }
            request.resourceSpans = [rs]
            return try request.serializedBytes()
        }
        var decoder = OTLPSpanDecoder()
        var kept: [SpanRecord] = []
        func feed(_ bytes: [UInt8]) throws {
            try bytes.withUnsafeBytes { value in
                try decoder.decode(KafkaMessage(topic: "otlp_spans", partition: 0, offset: 0, timestamp: nil, key: nil, value: value)) { record, _ in
                    kept.append(record)
                }
            }
        }
        try feed(try message(service: "first", scopes: 3))
        XCTAssertThrowsError(try feed(Array(try message(service: "broken", scopes: 2).dropLast(3))))
        try feed(try message(service: "second", scopes: 1))
        XCTAssertEqual(kept.map { $0.origin.serviceName }, ["first", "first", "first", "second"])
        XCTAssertEqual(kept.map(\.origin.scopeName), ["first-scope-0", "first-scope-1", "first-scope-2", "second-scope-0"])
    }

    func testEveryTruncationIsRejectedOrIsAShorterValidMessage() throws {
        let bytes: [UInt8] = try sampleRequest().serializedBytes()
        for cut in 0..<bytes.count {
            let prefix = Array(bytes[..<cut])
            let reference = try? Request(serializedBytes: prefix)
            let ours = try? decode(prefix)
            // Where swift-protobuf accepts the prefix, it is a valid message of fewer spans,
            // and so it must be for us; where it rejects it, so must we.
            XCTAssertEqual(ours == nil, reference == nil, "cut at \(cut) of \(bytes.count)")
        }
    }

    /// A field that occurs twice counts by its last occurrence: an earlier span id of the
    /// wrong length is no error. (A fresh-clone CI run's random corruption found us rejecting this.)
    func testARepeatedIdFieldCountsByItsLastOccurrence() throws {
        var request = sampleRequest()
        var span = request.resourceSpans[0].scopeSpans[0].spans[0]
        let good = span.spanID
        span.spanID = Data(repeating: 7, count: 16)
        var earlier: [UInt8] = try span.serializedBytes()
        span.spanID = good
        // The 16-byte span id, then (appended, as a second occurrence) the valid 8-byte one.
        earlier += [0x12, 0x08] + Array(good)
        let twice = try Opentelemetry_Proto_Trace_V1_Span(serializedBytes: earlier)
        XCTAssertEqual(twice.spanID, good, "swift-protobuf takes the last occurrence")
        request.resourceSpans[0].scopeSpans[0].spans[0] = twice
        let ours = try decode(try request.serializedBytes())
        XCTAssertEqual(ours.first?.spanID, SpanID(UInt64(bigEndian: good.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })))

        // The same duplicate on the wire, not re-serialised: the request's bytes carry both.
        var rs = request.resourceSpans[0]
        rs.scopeSpans[0].spans = []
        var scopeBytes: [UInt8] = try rs.scopeSpans[0].serializedBytes()
        scopeBytes += [0x12] + varint(earlier.count) + earlier
        var resourceBytes: [UInt8] = try rs.serializedBytes()
        resourceBytes += [0x12] + varint(scopeBytes.count) + scopeBytes
        let wire: [UInt8] = [0x0A] + varint(resourceBytes.count) + resourceBytes
        XCTAssertNotNil(try? Request(serializedBytes: wire))
        XCTAssertEqual(try decode(wire).last?.spanID, ours.first?.spanID)
    }

    private func varint(_ n: Int) -> [UInt8] {
        var v = UInt64(n), out: [UInt8] = []
        while v >= 0x80 { out.append(UInt8(v & 0x7f) | 0x80); v >>= 7 }
        return out + [UInt8(v)]
    }

    func testCorruptedBytesNeverCrashAndRejectWhatSwiftProtobufRejects() throws {
        let bytes: [UInt8] = try sampleRequest().serializedBytes()
        // Seeded: a failure replays (change the seed to explore other corruptions).
        var rng = SeededRandom(seed: 20261125)
        var disagreements = 0
        for _ in 0..<5_000 {
            var corrupted = bytes
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                corrupted[Int.random(in: 0..<corrupted.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            var referenceError: (any Error)?
            let reference: Request?
            do { reference = try Request(serializedBytes: corrupted) } catch { reference = nil; referenceError = error }
            let ours = try? decode(corrupted)
            if let ours {
                _ = ours.map { ($0.name, $0.attributes, $0.events, $0.links) }  // decodable on demand
            }
            // swift-protobuf also rejects invalid UTF-8 in strings, which we decode leniently
            // (invalid sequences become U+FFFD); every other rejection must agree.
            if reference == nil && ours != nil, case BinaryDecodingError.invalidUTF8? = referenceError {
                continue
            }
            if reference == nil && ours != nil {
                disagreements += 1
                let diffs = corrupted.indices.filter { corrupted[$0] != bytes[$0] }.map { "\($0): \(bytes[max(0, $0 - 3)...min(bytes.count - 1, $0 + 3)].map { String($0, radix: 16) }) -> \(corrupted[$0])" }
                XCTFail("accepted a message swift-protobuf rejects: \(referenceError!) \(diffs)")
            }
            if let reference, ours == nil {
                let spans = reference.resourceSpans.flatMap { $0.scopeSpans.flatMap(\.spans) }
                let badIDs = spans.contains { s in
                    ![0, 16].contains(s.traceID.count) || ![0, 8].contains(s.spanID.count) || ![0, 8].contains(s.parentSpanID.count)
                        || s.links.contains { ![0, 16].contains($0.traceID.count) || ![0, 8].contains($0.spanID.count) }
                }
                var why = ""
                do { _ = try decode(corrupted) } catch { why = "\(error)" }
                XCTAssertTrue(badIDs, "rejected a message swift-protobuf accepts, with valid ids: \(why)")
            }
        }
        XCTAssertEqual(disagreements, 0)
    }
}
