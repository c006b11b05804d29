import Stream

/// One message of the repartition topic: records read from one input partition that belong
/// to one stateful partition, and that input partition's watermark after them. Each record
/// carries its place in the input (offset, and index among the records of its message) so the
/// stateful stage can drop a record it already has: the input stage is at least once (after a
/// failover it reads again from its last committed offset) and the stateful stage makes it
/// exactly once by remembering, per input partition, the last place it applied.
///
/// Layout: version byte, input partition (varint), watermark (Int64; `.min`: none yet), idle
/// flag, record count (varint), then per record offset (Int64), index (varint), time (Int64)
/// and the record's `StateCodable` encoding.
struct RepartitionBatch {
    static let version: UInt8 = 1

    /// A record's place in the input: the offset of its message and its index there.
    struct Place: Comparable, Sendable {
        var offset: Int64
        var index: Int
        static func < (a: Place, b: Place) -> Bool { (a.offset, a.index) < (b.offset, b.index) }
        static let none = Place(offset: -1, index: 0)
    }

    struct Header {
        var inputPartition: Int32
        var watermark: Timestamp
        var idle: Bool
        var count: Int
    }

    /// Appends a whole message to `w`.
    static func encode<T: StateCodable>(inputPartition: Int32, watermark: Timestamp, idle: Bool,
                                        records: ArraySlice<(place: Place, time: Timestamp, value: T)>,
                                        into w: inout StateWriter) {
        w.write(version)
        w.writeVarint(Int(inputPartition))
        w.write(watermark)
        w.write(idle ? UInt8(1) : 0)
        w.writeVarint(records.count)
        for r in records {
            w.write(r.place.offset)
            w.writeVarint(r.place.index)
            w.write(r.time)
            r.value.encode(to: &w)
        }
    }

    /// The records of one (input partition, stateful partition) pair as messages of at most
    /// `perMessage` records, each passed to `send` as it is encoded. Only the last message
    /// carries the new watermark: the stateful stage may move event time on between any two
    /// messages, and the records of a later message can be older than the new watermark (they
    /// were read before it). The others repeat the watermark already announced, `previous`,
    /// and are not idle (they have records).
    static func encodeMessages<T: StateCodable>(
        inputPartition: Int32, watermark: Timestamp, idle: Bool, previous: Timestamp,
        records: [(place: Place, time: Timestamp, value: T)], perMessage: Int = 2_000,
        send: (StateWriter) throws -> Void
    ) rethrows {
        var start = 0
        repeat {
            let end = min(records.count, start + perMessage)
            let last = end == records.count
            var w = StateWriter(capacity: 64 * (end - start) + 32)
            encode(inputPartition: inputPartition, watermark: last ? watermark : previous, idle: last && idle,
                   records: records[start..<end], into: &w)
            try send(w)
            start = end
        } while start < records.count
    }

    static func readHeader(_ r: inout StateReader) throws -> Header {
        let v: UInt8 = try r.read()
        guard v == version else { throw StateDecodingError("repartition message of version \(v); this build reads \(version)") }
        let p = Int32(try r.readVarint())
        let wm: Timestamp = try r.read()
        let idle: UInt8 = try r.read()
        return Header(inputPartition: p, watermark: wm, idle: idle != 0, count: try r.readVarint())
    }

    static func readRecord<T: StateCodable>(_ r: inout StateReader, as: T.Type) throws -> (place: Place, time: Timestamp, value: T) {
        let offset: Int64 = try r.read()
        let index = try r.readVarint()
        let time: Timestamp = try r.read()
        return (Place(offset: offset, index: index), time, try T.decode(from: &r))
    }
}
