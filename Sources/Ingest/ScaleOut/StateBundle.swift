import Foundation
import Stream

/// A checkpoint directory as one byte string (for the changelog) and back. The files keep
/// their own checksums (the checkpoint format's); the bundle adds one over everything, so a
/// torn or mixed-up set of chunks is refused before anything is restored from it.
enum StateBundle {
    static let magic: [UInt8] = Array("VGBNDL1".utf8)

    static func pack(directory: String) throws -> [UInt8] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { !$0.hasSuffix(".tmp") }.sorted()
        var w = StateWriter()
        w.write(bytes: magic)
        w.writeVarint(names.count)
        for name in names {
            w.write(name)
            w.write(bytes: try DurableFiles.read(directory + "/" + name))
        }
        return w.bytes
    }

    /// Writes the bundle's files into `directory` (made empty first), durably.
    static func unpack(_ bundle: [UInt8], into directory: String) throws {
        var r = StateReader(bundle)
        guard (try? r.readBytes()).map(Array.init) == magic else { throw StateDecodingError("not a state bundle") }
        try? FileManager.default.removeItem(atPath: directory)
        try DurableFiles.makeDirectory(directory)
        for _ in 0..<(try r.readVarint()) {
            let name = try r.readString()
            guard !name.contains("/"), name != "..", name != "." else { throw StateDecodingError("bad file name in a state bundle: \(name)") }
            try DurableFiles.write(Array(try r.readBytes()), to: directory + "/" + name)
        }
        try DurableFiles.syncDirectory(directory)
    }

    static func chunks(_ bundle: [UInt8], size: Int = 512 * 1024) -> [ArraySlice<UInt8>] {
        stride(from: 0, to: max(bundle.count, 1), by: size).map { bundle[$0..<min(bundle.count, $0 + size)] }
    }
}

/// What a stateful partition's commit covered, besides the operator state: written as the
/// commit's marker in the changelog and next to the local checkpoint.
struct PartitionProgress: Sendable, Equatable {
    /// Unique per commit: `<transactional id>/<random>`. Output records and changelog chunks
    /// of the commit carry it in their `vigil.txn` header.
    var transaction: String
    /// The owner that made the commit: the epoch of its claim on the partition. A commit whose
    /// epoch is not that of the latest claim before it in the changelog is a zombie's, and void.
    var epoch: UInt64 = 0
    /// The next offset of the repartition partition to read.
    var position: Int64
    /// Per input partition, the last record place applied (repeats are dropped).
    var applied: [Int32: RepartitionBatch.Place]
    /// Per input partition, the last watermark heard and whether it was idle.
    var watermarks: [Int32: InputWatermark]
    /// The state bundle: how many chunks precede the marker, and its checksum.
    var chunks: Int
    var bundleChecksum: UInt32
    /// Local copy only: the changelog's end before this commit (where the tail begins).
    var changelogStart: Int64 = 0

    struct InputWatermark: Sendable, Equatable {
        var watermark: Timestamp
        var idle: Bool
    }

    static let empty = PartitionProgress(transaction: "", position: KafkaOffset.beginning, applied: [:], watermarks: [:], chunks: 0, bundleChecksum: 0)

    func encode() -> [UInt8] {
        var w = StateWriter()
        w.write(UInt8(1))
        w.write(transaction)
        w.write(epoch)
        w.write(position)
        w.writeVarint(applied.count)
        for (p, place) in applied.sorted(by: { $0.key < $1.key }) {
            w.writeVarint(Int(p)); w.write(place.offset); w.writeVarint(place.index)
        }
        w.writeVarint(watermarks.count)
        for (p, wm) in watermarks.sorted(by: { $0.key < $1.key }) {
            w.writeVarint(Int(p)); w.write(wm.watermark); w.write(wm.idle ? UInt8(1) : 0)
        }
        w.writeVarint(chunks)
        w.write(bundleChecksum)
        w.write(changelogStart)
        return w.bytes
    }

    static func decode(_ bytes: [UInt8]) throws -> PartitionProgress {
        var r = StateReader(bytes)
        guard try r.read(UInt8.self) == 1 else { throw StateDecodingError("unknown partition progress version") }
        let transaction = try r.readString()
        let epoch: UInt64 = try r.read()
        var p = PartitionProgress(transaction: transaction, position: try r.read(), applied: [:], watermarks: [:], chunks: 0, bundleChecksum: 0)
        p.epoch = epoch
        for _ in 0..<(try r.readVarint()) {
            p.applied[Int32(try r.readVarint())] = RepartitionBatch.Place(offset: try r.read(), index: try r.readVarint())
        }
        for _ in 0..<(try r.readVarint()) {
            p.watermarks[Int32(try r.readVarint())] = InputWatermark(watermark: try r.read(), idle: try r.read(UInt8.self) != 0)
        }
        p.chunks = try r.readVarint()
        p.bundleChecksum = try r.read()
        p.changelogStart = try r.read()
        return p
    }
}
