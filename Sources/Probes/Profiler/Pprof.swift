import CZlib
import Foundation

/// A `CPUProfile` in pprof's format (profile.proto of github.com/google/pprof: a protobuf
/// `Profile`, gzipped), which `go tool pprof` and every pprof viewer read. Two sample values:
/// samples/count and cpu/nanoseconds; each sample labelled with its pid and command.
public enum Pprof {
    public static func encode(_ profile: CPUProfile) -> [UInt8] {
        var strings = StringTable()
        var functions: [String: UInt64] = [:]
        var mappings: [String: UInt64] = [:]
        var locations: [CPUProfile.Frame: UInt64] = [:]
        var out = ProtobufWriter()
        let period = Int64(1_000_000_000 / max(1, profile.frequency))

        func valueType(_ type: String, _ unit: String) -> ProtobufWriter {
            var v = ProtobufWriter()
            v.int(1, Int64(strings.index(type)))
            v.int(2, Int64(strings.index(unit)))
            return v
        }
        out.message(1, valueType("samples", "count"))
        out.message(1, valueType("cpu", "nanoseconds"))

        var body = ProtobufWriter()  // mappings, locations and functions go after the samples
        for s in profile.samples {
            var ids: [UInt64] = []
            for frame in s.frames {
                if let id = locations[frame] { ids.append(id); continue }
                let id = UInt64(locations.count + 1)
                locations[frame] = id
                var location = ProtobufWriter()
                location.uint(1, id)
                let mappingName = frame.mapping ?? "[unknown]"
                let mappingID: UInt64
                if let m = mappings[mappingName] { mappingID = m } else {
                    mappingID = UInt64(mappings.count + 1)
                    mappings[mappingName] = mappingID
                    var m = ProtobufWriter()
                    m.uint(1, mappingID)
                    m.uint(2, frame.mappingStart)
                    m.uint(3, frame.mappingEnd)
                    m.uint(4, frame.mappingOffset)
                    m.int(5, Int64(strings.index(mappingName)))
                    m.uint(7, frame.function != nil ? 1 : 0)  // has_functions
                    body.message(3, m)
                }
                location.uint(2, mappingID)
                location.uint(3, frame.address)
                if let name = frame.function {
                    let fid: UInt64
                    if let f = functions[name] { fid = f } else {
                        fid = UInt64(functions.count + 1)
                        functions[name] = fid
                        var f = ProtobufWriter()
                        f.uint(1, fid)
                        f.int(2, Int64(strings.index(name)))
                        f.int(3, Int64(strings.index(name)))
                        body.message(5, f)
                    }
                    var line = ProtobufWriter()
                    line.uint(1, fid)
                    location.message(4, line)
                }
                body.message(4, location)
                ids.append(id)
            }
            var sample = ProtobufWriter()
            sample.packed(1, ids)
            sample.packedSigned(2, [Int64(s.count), Int64(s.count) * period])
            var pid = ProtobufWriter()
            pid.int(1, Int64(strings.index("pid")))
            pid.int(3, Int64(s.pid))
            sample.message(3, pid)
            var command = ProtobufWriter()
            command.int(1, Int64(strings.index("command")))
            command.int(2, Int64(strings.index(s.command)))
            sample.message(3, command)
            out.message(2, sample)
        }
        out.bytes += body.bytes
        for s in strings.all { out.string(6, s) }
        out.int(9, profile.startUnixNanos)
        out.int(10, profile.endUnixNanos - profile.startUnixNanos)
        // The string table is already written: "cpu" and "nanoseconds" are in it (sample types).
        out.message(11, valueType("cpu", "nanoseconds"))
        out.int(12, period)
        return out.bytes
    }

    /// `encode`, gzipped: the file pprof tools open.
    public static func gzipped(_ profile: CPUProfile) throws -> [UInt8] {
        try gzip(encode(profile))
    }

    static func gzip(_ input: [UInt8]) throws -> [UInt8] {
        var stream = z_stream()
        guard vigil_deflate_init_gzip(&stream, Z_DEFAULT_COMPRESSION) == Z_OK else { throw ProbeError("zlib: cannot start compressing") }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 32)
        let status: Int32 = input.withUnsafeBytes { i in
            output.withUnsafeMutableBytes { o in
                stream.next_in = UnsafeMutablePointer(mutating: i.bindMemory(to: Bytef.self).baseAddress)
                stream.avail_in = uInt(input.count)
                stream.next_out = o.bindMemory(to: Bytef.self).baseAddress
                stream.avail_out = uInt(o.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { throw ProbeError("zlib: compressing failed (\(status))") }
        return Array(output.prefix(Int(stream.total_out)))
    }
}

/// Strings by index, "" first (pprof requires it).
struct StringTable {
    private(set) var all: [String] = [""]
    private var indices: [String: Int] = ["": 0]
    mutating func index(_ s: String) -> Int {
        if let i = indices[s] { return i }
        all.append(s)
        indices[s] = all.count - 1
        return all.count - 1
    }
}

/// Protobuf's wire format, the few kinds pprof needs.
struct ProtobufWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 { bytes.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        bytes.append(UInt8(v))
    }
    mutating func key(_ field: Int, _ wireType: UInt64) { varint(UInt64(field) << 3 | wireType) }
    mutating func uint(_ field: Int, _ v: UInt64) { key(field, 0); varint(v) }
    mutating func int(_ field: Int, _ v: Int64) { key(field, 0); varint(UInt64(bitPattern: v)) }
    mutating func lengthDelimited(_ field: Int, _ payload: [UInt8]) { key(field, 2); varint(UInt64(payload.count)); bytes += payload }
    mutating func message(_ field: Int, _ m: ProtobufWriter) { lengthDelimited(field, m.bytes) }
    mutating func string(_ field: Int, _ s: String) { lengthDelimited(field, Array(s.utf8)) }
    mutating func packed(_ field: Int, _ values: [UInt64]) {
        var p = ProtobufWriter()
        values.forEach { p.varint($0) }
        lengthDelimited(field, p.bytes)
    }
    mutating func packedSigned(_ field: Int, _ values: [Int64]) { packed(field, values.map { UInt64(bitPattern: $0) }) }
}
