import Foundation

/// The `_metadata` file: written last, it is what makes a checkpoint complete. JSON (so a
/// person can read it) followed by a line with its own CRC-32C. Layout in FORMAT.md.
public struct CheckpointMetadata: Codable, Sendable {
    public struct File: Codable, Sendable {
        public var name: String
        public var bytes: Int
        public var crc32c: UInt32
    }
    public struct Operator: Codable, Sendable {
        public var id: String
        public var parallelism: Int
    }

    public var format = "vigil-checkpoint"
    public var version = 1
    public var checkpointID: Int64
    /// "checkpoint" or "savepoint".
    public var kind: String
    public var savepointName: String?
    public var job: String
    public var createdAtMillis: Int64
    public var maxParallelism: Int
    public var files: [File]
    public var operators: [Operator]

    static let fileName = "_metadata"
    private static let trailer = "\n#crc32c="

    func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        var bytes = [UInt8](try encoder.encode(self))
        let crc = CRC32C.checksum(bytes)
        bytes.append(contentsOf: Array((Self.trailer + hex(crc) + "\n").utf8))
        return bytes
    }

    static func decode(_ bytes: [UInt8]) throws -> CheckpointMetadata {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let range = text.range(of: trailer, options: .backwards) else {
            throw RestoreError("\(fileName): no checksum line (truncated?)")
        }
        let json = Array(text[..<range.lowerBound].utf8)
        let stated = text[range.upperBound...].trimmingCharacters(in: .whitespacesAndNewlines)
        guard let crc = UInt32(stated, radix: 16) else { throw RestoreError("\(fileName): unreadable checksum '\(stated)'") }
        let actual = CRC32C.checksum(json)
        guard actual == crc else { throw RestoreError("\(fileName): checksum mismatch (says \(stated), content is \(hex(actual)))") }
        let m: CheckpointMetadata
        do { m = try JSONDecoder().decode(CheckpointMetadata.self, from: Data(json)) } catch {
            throw RestoreError("\(fileName): \(error)")
        }
        guard m.format == "vigil-checkpoint", m.version == 1 else {
            throw RestoreError("\(fileName): format \(m.format) version \(m.version), this build reads vigil-checkpoint 1")
        }
        return m
    }
}
