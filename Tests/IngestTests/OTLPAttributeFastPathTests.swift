import Foundation
@testable import Ingest
import OTLPProto
import SwiftProtobuf
import VigilTestSupport
import XCTest

/// The byte-by-byte check of common attributes (`OTLPWire.isPlainKeyValue`) may only accept
/// what the general field-by-field check accepts: over encoded attributes of every value kind,
/// their truncations and random byte flips.
final class OTLPAttributeFastPathTests: XCTestCase {
    typealias KV = Opentelemetry_Proto_Common_V1_KeyValue

    func attributes() -> [KV] {
        func kv(_ key: String, _ set: (inout Opentelemetry_Proto_Common_V1_AnyValue) -> Void) -> KV {
            var a = KV()
            a.key = key
            set(&a.value)
            return a
        }
        var list: [KV] = [
            kv("http.route") { $0.stringValue = "/api/orders/{id}" },
            kv("http.status_code") { $0.intValue = 503 },
            kv("negative") { $0.intValue = -1 },  // a 10-byte varint
            kv("error") { $0.boolValue = true },
            kv("ratio") { $0.doubleValue = 0.25 },
            kv("empty") { $0.stringValue = "" },
            kv("") { $0.stringValue = "" },  // no key on the wire: the general path
            kv("raw") { $0.bytesValue = Data([1, 2, 3]) },
            kv("long") { $0.stringValue = String(repeating: "x", count: 200) },  // two-byte length
            kv(String(repeating: "k", count: 130)) { $0.intValue = 1 },
            kv("list") { $0.arrayValue.values = [.with { $0.intValue = 1 }, .with { $0.stringValue = "a" }] },
            kv("map") { $0.kvlistValue.values = [.with { $0.key = "a"; $0.value.boolValue = false }] },
        ]
        list.append(KV.with { $0.key = "unset value" })
        return list
    }

    func testThePlainCheckAcceptsOnlyWhatTheFullCheckAccepts() throws {
        var rng = SeededRandom(seed: 7)
        var plainAccepted = 0
        for attribute in attributes() {
            let encoded: [UInt8] = try attribute.serializedBytes()
            var variants = [encoded]
            for n in 0..<encoded.count { variants.append(Array(encoded.prefix(n))) }
            for _ in 0..<300 where !encoded.isEmpty {
                var v = encoded
                v[Int.random(in: 0..<v.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                variants.append(v)
            }
            for bytes in variants {
                try bytes.withUnsafeBytes { b in
                    guard OTLPWire.isPlainKeyValue(b, 0..<b.count) else { return }
                    plainAccepted += 1
                    XCTAssertNoThrow(try OTLPWire.validateKeyValueFully(b, 0..<b.count), "\(bytes) passed the plain check only")
                }
            }
        }
        XCTAssertGreaterThan(plainAccepted, 100, "the plain check should accept the common attributes")
    }

    func testTheCommonShapesTakeThePlainPath() throws {
        for attribute in attributes().prefix(6) {
            let encoded: [UInt8] = try attribute.serializedBytes()
            encoded.withUnsafeBytes { b in XCTAssertTrue(OTLPWire.isPlainKeyValue(b, 0..<b.count), "\(attribute.key)") }
        }
    }
}
