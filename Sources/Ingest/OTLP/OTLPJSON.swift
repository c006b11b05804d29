import Foundation

/// OTLP/JSON is protobuf's JSON mapping with one difference that matters: trace and span ids
/// are hex strings, where the mapping has base64 for bytes. (A 32-digit hex id is also valid
/// base64, so decoding it as is would not fail: it would silently give wrong ids.)
enum OTLPJSON {
    static let idKeys: Set<String> = ["traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"]

    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    /// The message rewritten into protobuf's JSON mapping (ids as base64).
    static func protobufJSON(_ value: UnsafeRawBufferPointer) throws -> Data {
        let data = Data(value)
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data, options: [])
        } catch {
            throw Malformed(description: "not JSON: \(error.localizedDescription)")
        }
        guard object is [String: Any] else { throw Malformed(description: "OTLP/JSON must be an object at the top level") }
        return try JSONSerialization.data(withJSONObject: try rewriteIDs(object), options: [])
    }

    static func rewriteIDs(_ node: Any) throws -> Any {
        if var dict = node as? [String: Any] {
            for (k, v) in dict {
                if idKeys.contains(k), let hex = v as? String {
                    guard let bytes = bytes(hex: hex) else { throw Malformed(description: "\(k) '\(hex.prefix(40))' is not hex") }
                    dict[k] = Data(bytes).base64EncodedString()
                } else if v is [Any] || v is [String: Any] {
                    dict[k] = try rewriteIDs(v)
                }
            }
            return dict
        }
        if let array = node as? [Any] { return try array.map(rewriteIDs) }
        return node
    }

    static func bytes(hex: String) -> [UInt8]? {
        let u = Array(hex.utf8)
        guard u.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(u.count / 2)
        var i = 0
        while i < u.count {
            guard let hi = nibble(u[i]), let lo = nibble(u[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: c - 48
        case 97...102: c - 87
        case 65...70: c - 55
        default: nil
        }
    }
}
